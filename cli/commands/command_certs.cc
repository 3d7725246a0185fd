// `hollerith certs`: the cluster's certificates, made with OpenSSL's library (no `openssl` tool).
#include <cstdio>
#include <ctime>

#include "cli/commands/commands.h"
#include "common/pki/pki.h"

namespace hollerith::cli {
namespace {

struct InitFlags {
  std::string dir;
  int days = 3650;
  bool force = false;
};

struct IssueFlags {
  std::string name;
  std::string role;
  std::vector<std::string> hosts;
  std::string dir = ".";
  std::string out;
  int days = 825;
  bool force = false;
};

int Init(const InitFlags& f) {
  pki::CaOptions options;
  options.days = f.days;
  options.force = f.force;
  if (Status s = pki::InitCa(f.dir, options); !s.ok()) {
    std::fprintf(stderr, "certs init: %s\n", s.message().c_str());
    return 2;
  }
  std::printf("cluster CA: %s/%s (copy to every machine), key %s/%s (keep it on this host)\n",
              f.dir.c_str(), pki::kCaCertFile, f.dir.c_str(), pki::kCaKeyFile);
  return 0;
}

int Issue(const IssueFlags& f) {
  pki::IssueOptions options;
  options.name = f.name;
  options.role = *pki::ParseRole(f.role);  // CLI11 checked it
  options.hosts = f.hosts;
  options.days = f.days;
  options.force = f.force;
  options.out_dir = f.out;
  auto cert = pki::IssueCertificate(f.dir, options);
  if (!cert.ok()) {
    std::fprintf(stderr, "certs issue: %s\n", cert.message().c_str());
    return 2;
  }
  auto key = cert->parent_path() / (f.name + ".key");
  std::printf("%s certificate %s, key %s (mode 0600)\n", f.role.c_str(), cert->c_str(),
              key.c_str());
  return 0;
}

std::string Date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

int Show(const std::string& file) {
  auto pem = pki::ReadFile(file);
  if (!pem.ok()) {
    std::fprintf(stderr, "certs show: %s\n", pem.message().c_str());
    return 2;
  }
  auto info = pki::InspectCertificate(*pem);
  if (!info.ok()) {
    std::fprintf(stderr, "certs show: %s: %s\n", file.c_str(), info.message().c_str());
    return 2;
  }
  std::printf("name:  %s\nrole:  %s\n", info->common_name.c_str(),
              info->is_ca  ? "CA"
              : info->role ? pki::RoleName(*info->role)
                           : "(none)");
  for (const auto& d : info->dns) std::printf("host:  %s\n", d.c_str());
  for (const auto& ip : info->ips) std::printf("host:  %s\n", ip.c_str());
  std::printf("valid: %s .. %s\n", Date(info->not_before).c_str(), Date(info->not_after).c_str());
  return 0;
}

}  // namespace

void AddCertsCommand(CLI::App& app, int& exit_code) {
  auto* certs = app.add_subcommand(
      "certs",
      "Make the cluster's TLS certificates: a CA (init), then one certificate per coordinator, "
      "worker and client (issue). The role is recorded as the URI subjectAltName "
      "hollerith://role/ROLE");
  certs->require_subcommand(1);

  auto init = std::make_shared<InitFlags>();
  auto* init_cmd = certs->add_subcommand(
      "init", "Make a cluster CA in DIR: ca.key (mode 0600; keep it on this host) and ca.crt");
  init_cmd->add_option("DIR", init->dir, "Directory for ca.key and ca.crt (created 0700)")
      ->required();
  init_cmd->add_option("--days", init->days, "Validity of the CA certificate")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  init_cmd->add_flag("--force", init->force,
                     "Overwrite an existing CA (invalidates every "
                     "certificate it signed)");
  init_cmd->callback([init, &exit_code] { exit_code = Init(*init); });

  auto issue = std::make_shared<IssueFlags>();
  auto* issue_cmd = certs->add_subcommand(
      "issue", "Make NAME.key (mode 0600) and NAME.crt, signed by the CA in --dir");
  issue_cmd
      ->add_option("NAME", issue->name,
                   "Certificate name (its common name; for a worker, its --name)")
      ->required();
  issue_cmd->add_option("--role", issue->role, "coordinator, worker or client")
      ->check(CLI::IsMember({"coordinator", "worker", "client"}))
      ->required();
  issue_cmd->add_option("--host", issue->hosts,
                        "DNS name or IP address the coordinator is reached at (repeatable; "
                        "clients check it against the address they dial)");
  issue_cmd->add_option("--dir", issue->dir, "Directory of the CA (ca.key, ca.crt)")
      ->capture_default_str();
  issue_cmd->add_option("--out", issue->out,
                        "Where to write NAME.key and NAME.crt (default: --dir)");
  issue_cmd->add_option("--days", issue->days, "Validity of the certificate")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  issue_cmd->add_flag("--force", issue->force, "Overwrite existing NAME.key and NAME.crt");
  issue_cmd->callback([issue, &exit_code] { exit_code = Issue(*issue); });

  auto file = std::make_shared<std::string>();
  auto* show_cmd =
      certs->add_subcommand("show", "Print a certificate's name, role, hosts, validity");
  show_cmd->add_option("FILE", *file, "A PEM certificate")->required();
  show_cmd->callback([file, &exit_code] { exit_code = Show(*file); });
}

}  // namespace hollerith::cli
