#include "tests/support/cluster.h"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace hollerith::testing {

TestCluster::TestCluster(std::initializer_list<WorkerSpec> workers,
                         const std::vector<std::string>& coordinator_flags,
                         const std::string& listen)
    : coordinator_flags_(coordinator_flags) {
  StartCoordinator(listen);
  StartWorkers(workers);
}

TestCluster::TestCluster(std::initializer_list<WorkerSpec> workers, const ClusterTls& tls,
                         const std::vector<std::string>& coordinator_flags)
    : coordinator_flags_(coordinator_flags), tls_dir_(tls.dir) {
  StartCoordinator("127.0.0.1:0");
  StartWorkers(workers);
}

std::vector<std::string> TestCluster::TlsFlags(const std::string& name) const {
  if (tls_dir_.empty()) return {};
  return {"--tls-ca",  tls_dir_ + "/ca.crt",          "--tls-cert", tls_dir_ + "/" + name + ".crt",
          "--tls-key", tls_dir_ + "/" + name + ".key"};
}

void TestCluster::StartWorkers(std::initializer_list<WorkerSpec> workers) {
  for (const auto& w : workers) StartWorker(w);
  std::vector<std::string> names;
  for (const auto& w : workers) names.push_back(w.name);
  if (!WaitForWorkers(names)) throw std::runtime_error("workers did not connect");
}

std::unique_ptr<Daemon> TestCluster::LaunchCoordinator(const std::string& listen,
                                                       const std::string& dir,
                                                       const std::vector<std::string>& more) {
  std::vector<std::string> argv = {HOLLERITH_COORDINATOR_PATH,
                                   "--listen",
                                   listen,
                                   "--data-dir",
                                   dir_.path() + "/" + dir,
                                   "--log-level",
                                   "info",  // WaitForWorkers follows its worker lines
                                   "--heartbeat-ms",
                                   "200"};
  // Its web view on a free port too (never the default's fixed one), unless the flags say.
  const bool web_flag = std::find(coordinator_flags_.begin(), coordinator_flags_.end(),
                                  "--http-listen") != coordinator_flags_.end();
  if (!web_flag) argv.insert(argv.end(), {"--http-listen", "127.0.0.1:0"});
  const auto tls = TlsFlags("coordinator");
  argv.insert(argv.end(), tls.begin(), tls.end());
  argv.insert(argv.end(), coordinator_flags_.begin(), coordinator_flags_.end());
  argv.insert(argv.end(), more.begin(), more.end());
  return std::make_unique<Daemon>(argv);
}

void TestCluster::StartCoordinator(const std::string& listen) {
  const bool web_flag = std::find(coordinator_flags_.begin(), coordinator_flags_.end(),
                                  "--http-listen") != coordinator_flags_.end();
  coordinator_ = LaunchCoordinator(listen, coordinator_dir_);
  std::string listening = coordinator_->WaitForLine("listening on ");
  if (tls_dir_.empty()) {
    token_file_ = coordinator_->WaitForLine("token file: ");
  } else if (coordinator_->WaitForLine("tls: ").empty()) {
    listening.clear();
  }
  if (listening.empty() || (tls_dir_.empty() && token_file_.empty())) {
    throw std::runtime_error("coordinator did not start");
  }
  web_url_ = web_flag ? "" : coordinator_->WaitForLine("web view: ");
  if (!web_flag && web_url_.empty())
    throw std::runtime_error("coordinator's web view did not start");
  address_ = listening;
  connected_.clear();
}

std::string TestCluster::Addresses() const {
  return standby_ ? address_ + "," + standby_address_ : address_;
}

void TestCluster::AddStandby() {
  const std::vector<std::string> token = tls_dir_.empty()
                                             ? std::vector<std::string>{"--token-file", token_file_}
                                             : std::vector<std::string>{};
  standby_ = LaunchCoordinator(standby_address_.empty() ? "127.0.0.1:0" : standby_address_,
                               standby_dir_, token);
  standby_address_ = standby_->WaitForLine("standby on ", std::chrono::seconds(30));
  if (standby_address_.empty()) {
    std::ifstream in(standby_->stderr_path());
    std::stringstream log;
    log << in.rdbuf();
    throw std::runtime_error("the standby coordinator did not start:\n" + log.str());
  }
}

std::chrono::milliseconds TestCluster::FailOver(int sig) {
  const auto signalled = std::chrono::steady_clock::now();
  StopCoordinator(sig);
  const std::string listening = standby_->WaitForLine("listening on ", std::chrono::seconds(30));
  if (listening.empty()) throw std::runtime_error("the standby did not take over");
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - signalled);
  coordinator_ = std::move(standby_);
  std::swap(address_, standby_address_);
  std::swap(coordinator_dir_, standby_dir_);
  connected_.clear();
  if (!web_url_.empty()) web_url_ = coordinator_->WaitForLine("web view: ");
  AddStandby();  // the stopped one, on its address
  return took;
}

void TestCluster::RestartCoordinator(int sig) {
  StopCoordinator(sig);
  StartCoordinatorAgain();
}

void TestCluster::StopCoordinator(int sig) {
  coordinator_->Signal(sig);
  coordinator_->Wait();
  coordinator_.reset();
}

void TestCluster::StartCoordinatorAgain() {
  // The same address (the port this cluster was given), so that workers find it again.
  StartCoordinator(address_);
}

bool TestCluster::WaitForCoordinatorLog(const std::string& text,
                                        std::chrono::milliseconds timeout) {
  return coordinator_->WaitForLogLine(
      [&](const std::string& line) { return line.find(text) != std::string::npos; }, timeout);
}

bool TestCluster::WaitForWorkerLog(const std::string& name, const std::string& text,
                                   std::chrono::milliseconds timeout) {
  auto it = workers_.find(name);
  return it != workers_.end() &&
         it->second->WaitForLogLine(
             [&](const std::string& line) { return line.find(text) != std::string::npos; },
             timeout);
}

void TestCluster::StartWorker(const WorkerSpec& w) {
  std::vector<std::string> argv = w.wrapper;
  const std::vector<std::string> worker = {
      HOLLERITH_WORKER_PATH,      "--coordinator", Addresses(), "--name", w.name, "--work-dir",
      dir_.path() + "/" + w.name, "--log-level",   "info"};
  argv.insert(argv.end(), worker.begin(), worker.end());
  // Two slots, unless the test says how many.
  if (std::find(w.flags.begin(), w.flags.end(), "--slots") == w.flags.end()) {
    argv.insert(argv.end(), {"--slots", "2"});
  }
  const auto tls = TlsFlags(w.name);
  argv.insert(argv.end(), tls.begin(), tls.end());
  if (tls.empty()) {
    argv.push_back("--token-file");
    argv.push_back(token_file_);
  }
  argv.insert(argv.end(), w.flags.begin(), w.flags.end());
  if (!w.labels.empty()) {
    argv.push_back("--labels");
    argv.push_back(w.labels);
  }
  workers_[w.name] = std::make_unique<Daemon>(argv);
}

void TestCluster::SignalWorker(const std::string& name, int sig) {
  if (auto it = workers_.find(name); it != workers_.end()) it->second->Signal(sig);
}

void TestCluster::KillWorker(const std::string& name, int sig) {
  auto it = workers_.find(name);
  if (it == workers_.end()) return;
  it->second->Signal(sig);
  it->second->Wait();
  workers_.erase(it);
}

namespace {

// The worker named in a coordinator log line "... worker NAME connected from ..." or
// "... worker NAME (epoch E) gone: ...", with `connected` telling which; "" for other lines.
std::string WorkerEvent(const std::string& line, bool* connected) {
  // Text log lines are "TIME LEVEL message" (common/log): the message starts at the third word.
  const size_t at = line.find(" info worker ");
  if (at == std::string::npos) return "";
  std::istringstream words(line.substr(at + 13));
  std::string name, what;
  words >> name >> what;
  if (what == "connected") {
    *connected = true;
    return name;
  }
  if (what == "(epoch" && line.find(") gone: ") != std::string::npos) {
    *connected = false;
    return name;
  }
  return "";
}

}  // namespace

bool TestCluster::WaitForWorkers(const std::vector<std::string>& names,
                                 std::chrono::milliseconds timeout) {
  const std::set<std::string> want(names.begin(), names.end());
  // Follow the coordinator's log (connect and gone events) until it has exactly these workers...
  if (connected_ != want) {
    const bool seen = coordinator_->WaitForLogLine(
        [&](const std::string& line) {
          bool connected = false;
          const std::string name = WorkerEvent(line, &connected);
          if (name.empty()) return false;
          if (connected) {
            connected_.insert(name);
          } else {
            connected_.erase(name);
          }
          return connected_ == want;
        },
        timeout);
    if (!seen) return false;
  }
  // ...then ask it, the way users do.
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
  return have == want;
}

CommandResult TestCluster::Cli(const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {HOLLERITH_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout, CliEnv());
}

std::vector<std::string> TestCluster::CliEnv() const {
  if (!tls_dir_.empty()) {  // the client's certificate, through the environment
    return {"HOLLERITH_COORDINATOR=" + Addresses(), "HOLLERITH_TLS_CA=" + tls_dir_ + "/ca.crt",
            "HOLLERITH_TLS_CERT=" + tls_dir_ + "/client.crt",
            "HOLLERITH_TLS_KEY=" + tls_dir_ + "/client.key"};
  }
  return {"HOLLERITH_COORDINATOR=" + Addresses(), "HOLLERITH_TOKEN_FILE=" + token_file_};
}

std::string TestCluster::CoordinatorLine(const std::string& prefix) {
  return coordinator_->WaitForLine(prefix);
}

std::string TestCluster::WorkerLine(const std::string& name, const std::string& prefix) {
  auto it = workers_.find(name);
  return it == workers_.end() ? "" : it->second->WaitForLine(prefix);
}

Daemon* TestCluster::worker(const std::string& name) {
  auto it = workers_.find(name);
  return it == workers_.end() ? nullptr : it->second.get();
}

std::string TestCluster::WorkerLog(const std::string& name) const {
  auto it = workers_.find(name);
  if (it == workers_.end()) return "";
  std::ifstream in(it->second->stderr_path());
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string TestCluster::CoordinatorLog() const {
  std::ifstream in(coordinator_->stderr_path());
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string TestCluster::Token() const {
  std::ifstream in(token_file_);
  std::string token;
  std::getline(in, token);
  return token;
}

}  // namespace hollerith::testing
