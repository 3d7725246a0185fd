#include "worker/options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <climits>
#include <cstdio>

#include "common/auth/auth_token.h"
#include "common/base/listen_address.h"
#include "common/base/version.h"
#include "common/log/log_flags.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/runner/node_capacity.h"
#include "common/runner/resource_pool.h"

namespace hollerith::worker {

std::string DefaultWorkerName() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "worker";
  return host;
}

size_t DefaultSlots() { return DetectedCpus(); }

namespace {

// Whether the list "k=v,k2=v2" names `key` (ParseResourceList keeps no zero amounts: an explicit
// cpu=0 would otherwise read as "not given").
bool ListNames(const std::string& list, std::string_view key) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string_view item(list.data() + start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.starts_with(key) && item.substr(key.size()).starts_with('=')) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

Result<Resources> ResolveCapacity(size_t slots, const std::string& resources) {
  Result<Resources> parsed = ParseResourceList(resources);
  if (!parsed.ok()) return Status::Error("--resources: " + parsed.message());
  Resources capacity = std::move(*parsed);
  const bool cpu_listed = ListNames(resources, "cpu");
  if (slots != 0 && cpu_listed) {
    return Status::Error("--slots N is --resources cpu=N: give one of them");
  }
  if (capacity.Named(kGpuResource) > kMaxGpus) {
    return Status::Error("--resources: gpu=" + std::to_string(capacity.Named(kGpuResource)) +
                         ": a worker indexes at most " + std::to_string(kMaxGpus) + " devices");
  }
  if (!cpu_listed) capacity.cpu_milli = (slots != 0 ? slots : DetectedCpus()) * kMilliCpu;
  if (!ListNames(resources, "memory")) capacity.memory_bytes = DetectedMemoryBytes();
  return capacity;
}

size_t WholeCpus(const Resources& capacity) {
  return std::max<size_t>(1, static_cast<size_t>(capacity.cpu_milli / kMilliCpu));
}

Result<std::vector<std::pair<std::string, std::string>>> ParseLabels(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> labels;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;  // tolerate "a=1,,b=2" and a trailing comma
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::Error("bad label '" + item + "': want key=value");
    }
    labels.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return labels;
}

ParsedOptions ParseWorkerOptions(int argc, char** argv) {
  WorkerOptions o;
  std::string labels;
  std::string work_dir;
  std::string run_as;
  std::string default_limits;
  std::string resources;
  rpc::TlsFiles tls_files;
  CLI::App app{
      "hollerith-worker: the node daemon. Dials the coordinator, receives stacks of cards, runs "
      "them in order in one workspace each, and reports every card's start and finish."};
  app.add_option("--coordinator", o.coordinator,
                 "coordinator address host:port, or a comma-separated list of the coordinators "
                 "that share a PostgreSQL store: the worker finds the leader (a standby names "
                 "it) and follows it through a failover (env HOLLERITH_COORDINATOR)")
      ->envname("HOLLERITH_COORDINATOR")
      ->capture_default_str();
  app.add_option("--name", o.name,
                 "this worker's name, used for placement (`node:` in specs); default: host name");
  app.add_option("--labels", labels,
                 "labels for placement (`labels:` in specs), as k=v,k2=v2; default: none");
  app.add_option("--slots", o.slots,
                 "cards run at once, each asking for one cpu unless its stack's resources: say "
                 "otherwise (running processes, not placed stacks): same as --resources cpu=N; "
                 "default: number of cores")
      ->check(CLI::Range(size_t{1}, size_t{4096}));
  app.add_option("--resources", resources,
                 "what this worker offers the cards it runs, as cpu=N,memory=SIZE,NAME=COUNT (any "
                 "subset, e.g. gpu=2,licence=1); each running card holds its stack's resources: "
                 "(default cpu=1), and waits while they do not fit; gpu=N are devices 0..N-1, a "
                 "card is told its own in HOLLERITH_GPUS and CUDA_VISIBLE_DEVICES; default: cpu "
                 "the number of cores, memory the machine's, no named ones");
  app.add_option("--work-dir", work_dir,
                 "workspaces and the artifact cache live here; default: "
                 "/tmp/hollerith-worker-<name>");
  app.add_option("--token-file", o.token_file,
                 "file holding the coordinator's bearer token (env HOLLERITH_TOKEN_FILE); required "
                 "without TLS; with TLS only the password of --metrics-listen");
  app.add_option("--tls-ca", tls_files.ca,
                 "CA bundle of the cluster, to check the coordinator (env HOLLERITH_TLS_CA); "
                 "with --tls-cert and --tls-key the worker dials with TLS");
  app.add_option("--tls-cert", tls_files.cert,
                 "this worker's certificate, role worker, common name = --name "
                 "(`hollerith certs issue NAME --role worker`; env HOLLERITH_TLS_CERT)");
  app.add_option("--tls-key", tls_files.key,
                 "the private key of --tls-cert (env HOLLERITH_TLS_KEY)");
  app.add_option("--run-as", run_as, kRunAsHelp);
  app.add_option("--default-limits", default_limits, kDefaultLimitsHelp);
  app.add_flag("--keep-workspaces", o.keep_workspaces,
               "keep each stack's workspace after it ended, for inspection; default: remove it "
               "(declared outputs are already published)");
  app.add_option("--metrics-listen", o.metrics_listen,
                 "serve Prometheus metrics on http://HOST:PORT/metrics: PORT alone listens on "
                 "127.0.0.1, HOST:PORT on that address, port 0 picks a free port (printed on "
                 "stdout as `metrics on URL`); scrapes present the token as "
                 "`Authorization: Bearer TOKEN` or as the basic auth password (env "
                 "HOLLERITH_METRICS_LISTEN); default: empty, no "
                 "metrics")
      ->envname("HOLLERITH_METRICS_LISTEN");
  app.add_flag("--insecure-plaintext", o.insecure_plaintext,
               "allow --metrics-listen beyond loopback: it is plain HTTP, and its scrapes carry "
               "the token of --token-file in the clear (a warning is printed at start)");
  int64_t outage_grace_ms = -1;
  app.add_option("--outage-grace-ms", outage_grace_ms,
                 "how long to keep running stacks while the coordinator is unreachable (a "
                 "restart, a partition): the worker reconnects, claims them and they go on under "
                 "their attempt; 0 cancels them at once; default: three of the coordinator's "
                 "leases (15000 with its defaults)")
      ->check(CLI::Range(int64_t{0}, int64_t{24} * 3600 * 1000));
  log::AddLogFlags(app, o.log_level, o.log_format);
  app.set_version_flag("--version", std::string("hollerith-worker ") + kVersionString);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return {std::nullopt, code == 0 ? 0 : 2};
  }

  auto parsed_labels = ParseLabels(labels);
  if (!parsed_labels.ok()) {
    std::fprintf(stderr, "hollerith-worker: --labels: %s\n", parsed_labels.message().c_str());
    return {std::nullopt, 2};
  }
  o.labels = std::move(*parsed_labels);
  if (outage_grace_ms >= 0) o.outage_grace = std::chrono::milliseconds(outage_grace_ms);
  if (o.name.empty()) o.name = DefaultWorkerName();
  auto capacity = ResolveCapacity(o.slots, resources);
  if (!capacity.ok()) {
    std::fprintf(stderr, "hollerith-worker: %s\n", capacity.message().c_str());
    return {std::nullopt, 2};
  }
  o.capacity = std::move(*capacity);
  o.slots = WholeCpus(o.capacity);
  o.work_dir = work_dir.empty() ? std::filesystem::path("/tmp/hollerith-worker-" + o.name)
                                : std::filesystem::path(work_dir);
  auto sandbox = ResolveSandbox(run_as, default_limits);
  if (!sandbox.ok()) {
    std::fprintf(stderr, "hollerith-worker: %s\n", sandbox.message().c_str());
    return {std::nullopt, 2};
  }
  o.sandbox = std::move(*sandbox);
  tls_files = rpc::ResolveTlsFiles(tls_files);
  o.token_file = ResolveTokenFile(o.token_file, "");
  if (tls_files.enabled()) {
    auto material = rpc::LoadTlsMaterial(tls_files);
    if (!material.ok()) {
      std::fprintf(stderr, "hollerith-worker: %s\n", material.message().c_str());
      return {std::nullopt, 2};
    }
    // The key is the worker's credential now: cards must not read it.
    if (Status s = CheckNotReadableBy(o.sandbox.user, tls_files.key); !s.ok()) {
      std::fprintf(stderr, "hollerith-worker: TLS key file %s\n", s.message().c_str());
      return {std::nullopt, 2};
    }
    o.tls = std::move(*material);
  } else if (o.token_file.empty()) {
    std::fprintf(stderr,
                 "hollerith-worker: no token: pass --token-file or set HOLLERITH_TOKEN_FILE "
                 "(the coordinator writes one into its data dir), or use TLS (--tls-ca, "
                 "--tls-cert, --tls-key)\n");
    return {std::nullopt, 2};
  }
  if (!o.token_file.empty()) {
    auto token = LoadToken(o.token_file);
    if (!token.ok()) {
      std::fprintf(stderr, "hollerith-worker: %s\n", token.message().c_str());
      return {std::nullopt, 2};
    }
    if (Status s = CheckNotReadableBy(o.sandbox.user, o.token_file); !s.ok()) {
      std::fprintf(stderr, "hollerith-worker: token file %s\n", s.message().c_str());
      return {std::nullopt, 2};
    }
    // With TLS the certificate is the credential of every call; the token only guards metrics.
    o.metrics_password = *token;
    if (!o.tls) o.token = std::move(*token);
  }
  if (!o.metrics_listen.empty()) {
    if (auto parsed = ParseListenAddress(o.metrics_listen, "metrics address"); !parsed.ok()) {
      std::fprintf(stderr, "hollerith-worker: --metrics-listen: %s\n", parsed.message().c_str());
      return {std::nullopt, 2};
    }
    if (auto exposed =
            CheckPlainHttpListen("--metrics-listen", o.metrics_listen, o.insecure_plaintext);
        !exposed.ok()) {
      std::fprintf(stderr, "hollerith-worker: %s\n", exposed.message().c_str());
      return {std::nullopt, 2};
    }
    if (o.metrics_password.empty()) {
      std::fprintf(stderr,
                   "hollerith-worker: --metrics-listen with TLS needs --token-file (or "
                   "HOLLERITH_TOKEN_FILE): its token is the scrapes' password\n");
      return {std::nullopt, 2};
    }
  }
  return {std::move(o), 0};
}

}  // namespace hollerith::worker
