// A real cluster for integration tests: hollerith-coordinator on 127.0.0.1:0 plus named
// hollerith-worker processes, all in a temp dir, driven through the real `hollerith` CLI.
#pragma once

#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace hollerith::testing {

struct WorkerSpec {
  std::string name;
  std::string labels;                // k=v,k2=v2
  std::vector<std::string> wrapper;  // runs the worker under it, e.g. {"ip", "netns", "exec", NS}
  std::vector<std::string> flags;    // more hollerith-worker flags, e.g. {"--default-limits", ...}
};

// Mutual TLS instead of the token: `dir` holds what `hollerith certs` made there: ca.crt,
// coordinator.{crt,key} (--host 127.0.0.1), one NAME.{crt,key} per worker and client.{crt,key}.
struct ClusterTls {
  std::string dir;
};

class TestCluster {
 public:
  // The coordinator listens on `listen` (port 0: a free one).
  explicit TestCluster(std::initializer_list<WorkerSpec> workers,
                       const std::vector<std::string>& coordinator_flags = {},
                       const std::string& listen = "127.0.0.1:0");
  // The same over mutual TLS: the coordinator, its workers and the CLI present their certificates.
  TestCluster(std::initializer_list<WorkerSpec> workers, const ClusterTls& tls,
              const std::vector<std::string>& coordinator_flags = {});
  const std::string& address() const { return address_; }
  // What the CLI and workers are given: address(), or with a standby "LEADER,STANDBY".
  std::string Addresses() const;
  const std::string& token_file() const { return token_file_; }
  std::string Token() const;  // the first line of token_file()
  // The coordinator's web view, "http://127.0.0.1:PORT/" (on a free port; "" when the
  // coordinator flags set --http-listen themselves).
  const std::string& web_url() const { return web_url_; }
  const std::string& data_dir() const { return dir_.path(); }
  // A directory in data_dir() that cards may write to whichever user they run as.
  std::string SharedDir(const std::string& name) const { return dir_.SharedDir(name); }
  pid_t coordinator_pid() const { return coordinator_->pid(); }

  void StartWorker(const WorkerSpec& worker);
  // Stops the coordinator with `sig` (SIGKILL: a crash) and starts it again on the same data dir
  // and address; workers reconnect on their own.
  void RestartCoordinator(int sig);
  // The two halves of RestartCoordinator, for what happens while it is down.
  void StopCoordinator(int sig);
  void StartCoordinatorAgain();
  // With a PostgreSQL store (in the coordinator flags): starts a second coordinator on the same
  // database (a data dir of its own, a free port) and waits until it is a standby. From then on
  // the CLI and the workers started after it are given both addresses (address() stays the
  // leader's).
  void AddStandby();
  // Stops the leader with `sig` (SIGKILL: a crash), waits until the standby leads, and starts
  // the stopped one again on its address, as the new standby. Returns the time from the signal
  // to the new leader listening.
  std::chrono::milliseconds FailOver(int sig);
  // Follows the log of the coordinator (or of a worker) from where the last call stopped until a
  // line contains `text`; false at the deadline.
  bool WaitForCoordinatorLog(const std::string& text,
                             std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool WaitForWorkerLog(const std::string& name, const std::string& text,
                        std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void KillWorker(const std::string& name, int sig);
  // Sends `sig` (SIGSTOP, SIGCONT, ...) to a worker and leaves it running.
  void SignalWorker(const std::string& name, int sig);
  // Waits (with a deadline) until the coordinator has logged that exactly these workers are
  // connected, then checks that `hollerith workers` lists exactly these names.
  bool WaitForWorkers(const std::vector<std::string>& names,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Runs the CLI against this cluster.
  CommandResult Cli(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  std::string WorkerLog(const std::string& name) const;
  std::string CoordinatorLog() const;
  // Reads the coordinator's / a worker's stdout until a line starting with `prefix`; the rest of
  // that line ("" at the deadline). E.g. "metrics on " with --metrics-listen.
  std::string CoordinatorLine(const std::string& prefix);
  std::string WorkerLine(const std::string& name, const std::string& prefix);
  // `hollerith` CLI environment for this cluster (HOLLERITH_COORDINATOR, HOLLERITH_TOKEN_FILE).
  std::vector<std::string> CliEnv() const;
  // The coordinator process (e.g. to send SIGHUP and follow its log).
  Daemon& coordinator() { return *coordinator_; }
  // The worker process called `name` (null if there is none).
  Daemon* worker(const std::string& name);

 private:
  void StartCoordinator(const std::string& listen);
  // Starts hollerith-coordinator on `listen` with its data dir `dir` (a name in data_dir()).
  std::unique_ptr<Daemon> LaunchCoordinator(const std::string& listen, const std::string& dir,
                                            const std::vector<std::string>& more = {});
  void StartWorkers(std::initializer_list<WorkerSpec> workers);
  // --tls-* flags for the certificate NAME.{crt,key}; none without TLS.
  std::vector<std::string> TlsFlags(const std::string& name) const;

  std::vector<std::string> coordinator_flags_;
  std::string tls_dir_;  // "": token
  TempDir dir_;
  std::unique_ptr<Daemon> coordinator_;
  std::string coordinator_dir_ = "coordinator";
  std::unique_ptr<Daemon> standby_;  // with AddStandby
  std::string standby_address_;
  std::string standby_dir_ = "standby";
  std::map<std::string, std::unique_ptr<Daemon>> workers_;
  std::string address_;
  std::string token_file_;
  std::string web_url_;
  std::set<std::string> connected_;  // per the coordinator's log, as far as read
};

}  // namespace hollerith::testing
