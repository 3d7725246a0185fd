#include "cli/cluster/local_cluster.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli/cluster/daemon_process.h"
#include "common/auth/auth_token.h"

namespace hollerith::cli {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

namespace {

constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr const char* kListeningPrefix = "listening on ";
constexpr const char* kWebViewPrefix = "web view: ";
constexpr const char* kTokenFilePrefix = "token file: ";

int OpenLog(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

void WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    data += w;
    n -= static_cast<size_t>(w);
  }
}

std::string Trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// The text after `prefix` in `line`, if the line has it.
std::optional<std::string> After(const std::string& line, const char* prefix) {
  const auto at = line.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  return Trim(line.substr(at + std::strlen(prefix)));
}

}  // namespace

Result<std::unique_ptr<LocalCluster>> LocalCluster::Start(const LocalClusterOptions& options) {
  if (options.workers < 1) return Status::Error("--workers must be at least 1");
  auto coordinator = FindDaemon("hollerith-coordinator");
  if (!coordinator.ok()) return coordinator.status();
  auto worker = FindDaemon("hollerith-worker");
  if (!worker.ok()) return worker.status();

  std::unique_ptr<LocalCluster> cluster(new LocalCluster());
  if (options.data_dir.empty()) {
    std::string pattern = (fs::temp_directory_path() / "hollerith-cluster-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Status::Error("cannot create a temporary data dir: " +
                           std::string(std::strerror(errno)));
    }
    cluster->data_dir_ = pattern;
    cluster->temp_data_dir_ = true;
  } else {
    std::error_code ec;
    fs::create_directories(options.data_dir, ec);
    if (ec)
      return Status::Error("cannot create data dir " + options.data_dir + ": " + ec.message());
    cluster->data_dir_ = fs::absolute(options.data_dir).lexically_normal().string();
  }
  Status s = cluster->StartCoordinator(*coordinator, options);
  for (int k = 1; s.ok() && k <= options.workers; ++k)
    s = cluster->StartWorker(*worker, k, options.slots);
  if (s.ok()) s = cluster->WaitForWorkers(options);
  if (!s.ok()) {
    cluster->KeepDataDir();  // its logs explain the failure
    cluster->Stop();
    return Status::Error(s.message() + "\n(cluster logs kept in " + cluster->data_dir_ + ")");
  }
  return cluster;
}

LocalCluster::~LocalCluster() { Stop(); }

Status LocalCluster::StartCoordinator(const std::string& binary,
                                      const LocalClusterOptions& options) {
  const std::string log = data_dir_ + "/coordinator.log";
  int log_fd = OpenLog(log);
  if (log_fd < 0) return Status::Error("cannot create " + log + ": " + std::strerror(errno));
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(log_fd);
    return Status::Error(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  auto pid = SpawnDaemon(
      binary, {"--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir", data_dir_},
      out[1], log_fd);
  ::close(out[1]);
  if (!pid.ok()) {
    ::close(out[0]);
    ::close(log_fd);
    return pid.status();
  }
  children_.push_back({"coordinator", log, *pid, true});

  // Read its stdout (copying it to the log) until it says where it listens and where its token is.
  const auto deadline = steady_clock::now() + options.start_timeout;
  std::string pending;
  bool eof = false;
  while (address_.empty() || token_file_.empty() || web_url_.empty()) {
    if (options.interrupted && options.interrupted()) {
      ::close(out[0]);
      ::close(log_fd);
      return Status::Error("interrupted");
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0 || eof) break;
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 200))) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = true;
      continue;
    }
    WriteAll(log_fd, buf, static_cast<size_t>(n));
    pending.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
      const std::string line = pending.substr(0, nl);
      if (auto a = After(line, kListeningPrefix); a && address_.empty()) {
        address_ = a->substr(0, a->find_first_of(" \t"));
      }
      if (auto t = After(line, kTokenFilePrefix); t && token_file_.empty()) token_file_ = *t;
      if (auto w = After(line, kWebViewPrefix); w && web_url_.empty()) web_url_ = *w;
    }
  }
  if (address_.empty() || token_file_.empty() || web_url_.empty()) {
    ::close(out[0]);
    ::close(log_fd);
    // Its stdout closed: it is exiting. Give it a moment to be reaped and described.
    const auto reap_by = steady_clock::now() + std::chrono::seconds(eof ? 2 : 0);
    do {
      bool died = false;
      auto exited = ReapExited(&died);
      if (died) return Status::Error(exited.front());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (steady_clock::now() < reap_by);
    return Status::Error("hollerith-coordinator did not print its address and token file within " +
                         std::to_string(options.start_timeout.count()) + " s; last lines of " +
                         log + ":\n" + LogTail(log));
  }
  // From now on keep draining its stdout into the log, or it would block once the pipe is full.
  forwarder_ = std::thread([this, in = out[0], log_fd] {
    char buf[4096];
    for (;;) {
      pollfd p{in, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) {
        if (stop_forwarding_.load()) break;  // and nothing left to copy
        continue;
      }
      const ssize_t n = ::read(in, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      WriteAll(log_fd, buf, static_cast<size_t>(n));
    }
    ::close(in);
    ::close(log_fd);
  });
  auto token = LoadToken(token_file_);
  if (!token.ok()) return Status::Error("coordinator's " + token.message());
  client_.emplace(address_, std::move(*token));
  return Status::Ok();
}

Status LocalCluster::StartWorker(const std::string& binary, int index, int slots) {
  const std::string name = "w" + std::to_string(index);
  const std::string work_dir = data_dir_ + "/" + name;
  const std::string log = data_dir_ + "/" + name + ".log";
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  if (ec) return Status::Error("cannot create " + work_dir + ": " + ec.message());
  int log_fd = OpenLog(log);
  if (log_fd < 0) return Status::Error("cannot create " + log + ": " + std::strerror(errno));
  std::vector<std::string> args = {"--coordinator", address_,    "--name",     name,
                                   "--token-file",  token_file_, "--work-dir", work_dir};
  if (slots > 0) {
    args.push_back("--slots");
    args.push_back(std::to_string(slots));
  }
  auto pid = SpawnDaemon(binary, args, log_fd, log_fd);
  ::close(log_fd);
  if (!pid.ok()) return pid.status();
  children_.push_back({name, log, *pid, true});
  worker_names_.push_back(name);
  return Status::Ok();
}

Status LocalCluster::WaitForWorkers(const LocalClusterOptions& options) {
  const auto deadline = steady_clock::now() + options.start_timeout;
  std::string last_error = "no answer yet";
  size_t connected = 0;
  for (;;) {
    if (options.interrupted && options.interrupted()) return Status::Error("interrupted");
    auto exited = ReapExited();
    if (!exited.empty()) return Status::Error(exited.front());
    auto workers = client_->ListWorkers();
    if (workers.ok()) {
      connected =
          std::count_if(worker_names_.begin(), worker_names_.end(), [&](const std::string& n) {
            return std::any_of(workers->begin(), workers->end(),
                               [&](const v1::WorkerInfo& w) { return w.name() == n; });
          });
      if (connected == worker_names_.size()) return Status::Ok();
      last_error = std::to_string(connected) + " of " + std::to_string(worker_names_.size()) +
                   " workers connected";
    } else {
      last_error = workers.message();
    }
    if (steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string msg = "the workers did not all connect within " +
                    std::to_string(options.start_timeout.count()) + " s (" + last_error + ")";
  for (const auto& c : children_) {
    if (c.name != "coordinator") msg += "\nlast lines of " + c.log + ":\n" + LogTail(c.log, 5);
  }
  msg += "\nlast lines of " + children_.front().log + ":\n" + LogTail(children_.front().log, 10);
  return Status::Error(msg);
}

std::string LocalCluster::Describe(const Child& child, int wait_status) const {
  const std::string what =
      child.name == "coordinator" ? "hollerith-coordinator" : "hollerith-worker " + child.name;
  return what + " (pid " + std::to_string(child.pid) + ") " + DescribeWaitStatus(wait_status) +
         "; last lines of " + child.log + ":\n" + LogTail(child.log);
}

std::vector<std::string> LocalCluster::ReapExited(bool* coordinator_died) {
  std::vector<std::string> out;
  for (auto& c : children_) {
    if (!c.running) continue;
    int st = 0;
    if (::waitpid(c.pid, &st, WNOHANG) != c.pid) continue;
    c.running = false;
    if (coordinator_died != nullptr && c.name == "coordinator") *coordinator_died = true;
    out.push_back(Describe(c, st));
  }
  return out;
}

void LocalCluster::Stop() {
  if (stopped_) return;
  stopped_ = true;
  client_.reset();
  // Workers first in the list order does not matter: all get SIGTERM at once, the process group
  // included (anything they started in it).
  for (auto& c : children_) {
    if (c.running && ::kill(-c.pid, SIGTERM) != 0) ::kill(c.pid, SIGTERM);
  }
  const auto deadline = steady_clock::now() + kStopGrace;
  for (;;) {
    bool any = false;
    for (auto& c : children_) {
      if (c.running && ::waitpid(c.pid, nullptr, WNOHANG) == c.pid) c.running = false;
      any = any || c.running;
    }
    if (!any || steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& c : children_) {
    if (!c.running) continue;
    if (::kill(-c.pid, SIGKILL) != 0) ::kill(c.pid, SIGKILL);
    ::waitpid(c.pid, nullptr, 0);
    c.running = false;
  }
  stop_forwarding_ = true;
  if (forwarder_.joinable()) forwarder_.join();
  if (temp_data_dir_ && !keep_data_dir_) {
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
  }
}

}  // namespace hollerith::cli
