#include "tests/support/cluster.h"

#include <signal.h>

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hollerith::testing {

TestCluster::TestCluster(std::initializer_list<WorkerSpec> workers,
                         const std::vector<std::string>& coordinator_flags) {
  std::vector<std::string> argv = {HOLLERITH_COORDINATOR_PATH,
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--data-dir",
                                   dir_.path() + "/coordinator",
                                   "--log-level",
                                   "warn",
                                   "--heartbeat-ms",
                                   "200"};
  argv.insert(argv.end(), coordinator_flags.begin(), coordinator_flags.end());
  coordinator_ = std::make_unique<Daemon>(argv);
  std::string listening = coordinator_->WaitForLine("listening on ");
  token_file_ = coordinator_->WaitForLine("token file: ");
  if (listening.empty() || token_file_.empty()) {
    throw std::runtime_error("coordinator did not start");
  }
  address_ = listening;
  for (const auto& w : workers) StartWorker(w);
  std::vector<std::string> names;
  for (const auto& w : workers) names.push_back(w.name);
  if (!WaitForWorkers(names)) throw std::runtime_error("workers did not connect");
}

void TestCluster::StartWorker(const WorkerSpec& w) {
  std::vector<std::string> argv = {HOLLERITH_WORKER_PATH,
                                   "--coordinator",
                                   address_,
                                   "--name",
                                   w.name,
                                   "--token-file",
                                   token_file_,
                                   "--work-dir",
                                   dir_.path() + "/" + w.name,
                                   "--slots",
                                   "2",
                                   "--log-level",
                                   "info"};
  if (!w.labels.empty()) {
    argv.push_back("--labels");
    argv.push_back(w.labels);
  }
  workers_[w.name] = std::make_unique<Daemon>(argv);
}

void TestCluster::KillWorker(const std::string& name, int sig) {
  auto it = workers_.find(name);
  if (it == workers_.end()) return;
  it->second->Signal(sig);
  it->second->Wait();
  workers_.erase(it);
}

bool TestCluster::WaitForWorkers(const std::vector<std::string>& names,
                                 std::chrono::milliseconds timeout) {
  const std::set<std::string> want(names.begin(), names.end());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    // Each `hollerith workers` call is a round trip to the coordinator: a bounded poll of its
    // state.
    CommandResult r = Cli({"workers"}, std::chrono::seconds(10));
    std::set<std::string> have;
    std::istringstream lines(r.out);
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      std::istringstream words(line);
      std::string name;
      if (words >> name) have.insert(name);
    }
    if (have == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

CommandResult TestCluster::Cli(const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {HOLLERITH_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout,
                    {"HOLLERITH_COORDINATOR=" + address_, "HOLLERITH_TOKEN_FILE=" + token_file_});
}

std::string TestCluster::WorkerLog(const std::string& name) const {
  auto it = workers_.find(name);
  if (it == workers_.end()) return "";
  std::ifstream in(it->second->stderr_path());
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace hollerith::testing
