#include "cli/commands/cluster_flags.h"

#include <cstdio>
#include <cstdlib>

#include "common/auth/auth_token.h"
#include "proto/rpc_credentials.h"

namespace hollerith::cli {
namespace {

// A coordinator restart is a pause with a note, not a failure, for `watch` and `--wait`.
void SetNotes(Client& client) {
  client.SetNotice(
      [](const std::string& note) { std::fprintf(stderr, "note: %s\n", note.c_str()); });
}

}  // namespace

void AddClusterFlags(CLI::App* cmd, ClusterFlags& flags) {
  cmd->add_option("--coordinator", flags.coordinator,
                  std::string("Coordinator address HOST:PORT, or a comma-separated list of the "
                              "coordinators that share a PostgreSQL store (the leader is found "
                              "and followed through a failover) (default: "
                              "$HOLLERITH_COORDINATOR or ") +
                      kDefaultCoordinator + ")");
  cmd->add_option("--token-file", flags.token_file,
                  "File holding the coordinator's token (default: $HOLLERITH_TOKEN_FILE); not "
                  "used with TLS");
  cmd->add_option("--tls-ca", flags.tls_ca,
                  "CA bundle of the cluster (default: $HOLLERITH_TLS_CA); with --tls-cert and "
                  "--tls-key: connect with TLS, the certificate is the credential");
  cmd->add_option("--tls-cert", flags.tls_cert,
                  "Client certificate, role client (default: $HOLLERITH_TLS_CERT)");
  cmd->add_option("--tls-key", flags.tls_key,
                  "Private key of --tls-cert (default: $HOLLERITH_TLS_KEY)");
}

std::optional<Client> ConnectClient(const ClusterFlags& flags) {
  std::string address = flags.coordinator;
  if (address.empty()) {
    const char* env = std::getenv("HOLLERITH_COORDINATOR");
    address = env != nullptr && *env != '\0' ? env : kDefaultCoordinator;
  }
  const rpc::TlsFiles tls = rpc::ResolveTlsFiles({flags.tls_ca, flags.tls_cert, flags.tls_key});
  if (tls.enabled()) {
    auto material = rpc::LoadTlsMaterial(tls);
    if (!material.ok()) {
      std::fprintf(stderr, "%s\n", material.message().c_str());
      return std::nullopt;
    }
    Client client(std::move(address),
                  ClientTls{material->ca_pem, material->cert_pem, material->key_pem});
    SetNotes(client);
    return client;
  }
  const std::string token_file = ResolveTokenFile(flags.token_file, "");
  if (token_file.empty()) {
    std::fprintf(stderr,
                 "no token: pass --token-file PATH or set HOLLERITH_TOKEN_FILE. The coordinator "
                 "prints 'token file: PATH' when it starts (the file is in its --data-dir); "
                 "`hollerith up` prints the export line to use.\n");
    return std::nullopt;
  }
  auto token = LoadToken(token_file);
  if (!token.ok()) {
    std::fprintf(stderr, "%s (the coordinator prints 'token file: PATH' when it starts)\n",
                 token.message().c_str());
    return std::nullopt;
  }
  Client client(std::move(address), std::move(*token));
  SetNotes(client);
  return client;
}

CLI::App* AddJobCommand(CLI::App& app, const std::string& name, const std::string& help,
                        int& exit_code, JobAction run) {
  auto* cmd = app.add_subcommand(name, help);
  auto cluster = std::make_shared<ClusterFlags>();
  auto job = std::make_shared<std::string>();
  cmd->add_option("JOB", *job, "Job id, or a job name unique among kept jobs")->required();
  AddClusterFlags(cmd, *cluster);
  cmd->callback([cluster, job, run = std::move(run), &exit_code] {
    auto client = ConnectClient(*cluster);
    exit_code = client ? run(*client, *job) : 2;
  });
  return cmd;
}

}  // namespace hollerith::cli
