// A coordinator and N workers on this machine, as child processes of the CLI (`hollerith up`,
// `hollerith run --workers N`). The daemons are found next to the running `hollerith` (or in
// ../coordinator/ and ../worker/ relative to it, as in the build tree; $HOLLERITH_BIN_DIR
// overrides). Their output goes to log files in the data dir. Children never outlive the CLI:
// Stop() (also run by the destructor) ends them with SIGTERM, then SIGKILL after 5 s, and reaps
// them; if the CLI dies without stopping them, the kernel sends them SIGTERM (see
// cli/child_guard.h).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/client/client.h"
#include "common/base/status.h"

namespace hollerith::cli {

struct LocalClusterOptions {
  int workers = 2;
  int slots = 0;         // cards at once per worker; 0: the worker's default
  std::string data_dir;  // empty: a new temporary directory, removed by Stop() unless kept
  std::chrono::seconds start_timeout{20};
  std::function<bool()> interrupted;  // polled while starting; true aborts the start
};

class LocalCluster {
 public:
  // Starts the coordinator, then the workers, and returns once every worker is connected. On
  // failure nothing is left running and the error says which process failed, with its log's tail.
  // Call it from a thread that lives as long as the cluster: the kernel's parent-death signal
  // follows the thread that spawned the children.
  static Result<std::unique_ptr<LocalCluster>> Start(const LocalClusterOptions& options);
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  const std::string& address() const { return address_; }
  const std::string& token_file() const { return token_file_; }
  // The coordinator's web view ("http://127.0.0.1:PORT/").
  const std::string& web_url() const { return web_url_; }
  const std::string& data_dir() const { return data_dir_; }
  Client& client() { return *client_; }

  // Reaps children that exited on their own; one description (name, how it ended, log tail) each.
  // `coordinator_died` is set if one of them was the coordinator.
  std::vector<std::string> ReapExited(bool* coordinator_died = nullptr);
  // Keep a temporary data dir (logs, workspaces) after Stop(), e.g. because something failed.
  void KeepDataDir() { keep_data_dir_ = true; }
  void Stop();

 private:
  struct Child {
    std::string name;  // "coordinator", "w1", ...
    std::string log;
    pid_t pid = -1;
    bool running = false;
  };

  LocalCluster() = default;
  Status StartCoordinator(const std::string& binary, const LocalClusterOptions& options);
  Status StartWorker(const std::string& binary, int index, int slots);
  Status WaitForWorkers(const LocalClusterOptions& options);
  std::string Describe(const Child& child, int wait_status) const;

  std::string data_dir_;
  bool temp_data_dir_ = false;
  bool keep_data_dir_ = false;
  std::string address_;
  std::string token_file_;
  std::string web_url_;
  std::optional<Client> client_;
  std::vector<Child> children_;  // the coordinator first
  std::vector<std::string> worker_names_;
  std::thread forwarder_;  // copies the coordinator's stdout to its log
  std::atomic<bool> stop_forwarding_{false};
  bool stopped_ = false;
};

}  // namespace hollerith::cli
