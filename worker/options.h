// Command-line configuration of `hollerith-worker`: flags, their environment fallbacks and
// defaults, and the credential: a bearer token or a TLS certificate (read here, so that a missing
// or bad one stops the daemon before it dials anyone).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/base/status.h"
#include "common/runner/card_sandbox.h"
#include "common/spec/resources.h"
#include "proto/rpc_credentials.h"

namespace hollerith::worker {

inline constexpr const char* kDefaultCoordinator = "127.0.0.1:7070";

struct WorkerOptions {
  std::string coordinator = kDefaultCoordinator;
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  // What cards may hold here at once: cpu and memory detected (or --slots, --resources), named
  // ones (gpu, licence) only from --resources. Empty: cpu=slots (or detected), memory detected.
  Resources capacity;
  // Whole cpus of the capacity, at least 1 (Hello.slots, for coordinators before resources); in
  // tests that set no capacity, --slots.
  size_t slots = 0;
  std::filesystem::path work_dir;
  std::string token_file;
  std::string token;  // "" with TLS: the certificate is the credential
  // --tls-ca/--tls-cert/--tls-key (or HOLLERITH_TLS_*), read and checked; empty: plaintext.
  std::optional<rpc::TlsMaterial> tls;
  std::string log_level = "info";
  std::string log_format = "text";
  // Keep each stack's workspace after it ended (default: removed, its outputs are published).
  bool keep_workspaces = false;
  // How long a graceful drain (SIGTERM, or the coordinator's drain) may wait for running stacks.
  std::chrono::milliseconds drain_timeout{60'000};
  // Whom cards run as and their default limits (--run-as, --default-limits). In-process tests
  // keep the default: cards run as the test's own user.
  CardSandbox sandbox;
  // Serve Prometheus metrics here (PORT or HOST:PORT, port 0: a free one); empty: no metrics.
  std::string metrics_listen;
  // --insecure-plaintext: metrics_listen may be beyond loopback (plain HTTP; warned at start).
  bool insecure_plaintext = false;
  // How long running stacks are kept while the coordinator is unreachable (a restart, a
  // partition), for the next session to claim them; negative: three of the coordinator's leases;
  // zero: cancelled at once.
  std::chrono::milliseconds outage_grace{-1};
  // The password of metrics scrapes: the token of --token-file (also with TLS, where it is used
  // for nothing else).
  std::string metrics_password;
  // Tests run the worker in-process and leave the process's signals alone.
  bool handle_signals = true;
};

// Either options to run with, or the exit code to leave with (0 after --help, 2 on bad usage or a
// token that cannot be read; the message has then been printed).
struct ParsedOptions {
  std::optional<WorkerOptions> options;
  int exit_code = 0;
};

ParsedOptions ParseWorkerOptions(int argc, char** argv);

// "k=v,k2=v2" -> pairs; an empty string is no labels. Keys must be non-empty.
Result<std::vector<std::pair<std::string, std::string>>> ParseLabels(const std::string& text);

// This machine's host name ("worker" if it cannot be read).
std::string DefaultWorkerName();
// The number of cores (2 if unknown).
size_t DefaultSlots();
// The capacity of `--slots` (0: not given) and `--resources` (its text): cpu from --slots or the
// list, else the cores; memory from the list, else the machine's; named ones from the list. Bad
// amounts, gpu beyond what a node indexes, and cpu given twice are errors.
Result<Resources> ResolveCapacity(size_t slots, const std::string& resources);
// Whole cpus of `capacity`, at least 1.
size_t WholeCpus(const Resources& capacity);

}  // namespace hollerith::worker
