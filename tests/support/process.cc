#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

extern char** environ;

namespace hollerith::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Where the commands and daemons a test starts keep temporary files (their TMPDIR): a directory
// of this test process's, removed when it exits, so that what the CLI keeps in the temp dir for
// its users (`run --local`'s workspaces) does not pile up in /tmp. Others may pass through it:
// cards may run as another user (--run-as).
const std::string& ScratchDir() {
  static const TempDir dir;
  static const bool opened = ::chmod(dir.path().c_str(), 0711) == 0;
  (void)opened;
  return dir.path();
}

std::vector<std::string> Environment(const std::vector<std::string>& extra) {
  auto is_tmpdir = [](const std::string& entry) { return entry.rfind("TMPDIR=", 0) == 0; };
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (!is_tmpdir(*e)) env.emplace_back(*e);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  if (std::none_of(extra.begin(), extra.end(), is_tmpdir)) env.push_back("TMPDIR=" + ScratchDir());
  return env;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            int out_fd, int err_fd) {
  std::vector<std::string> args = argv;
  std::vector<std::string> env = Environment(extra_env);
  auto argp = Pointers(args);
  auto envp = Pointers(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

int Decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& env) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_t pid = Spawn(argv, env, out[1], err[1]);
  close(out[1]);
  close(err[1]);
  CommandResult result;
  const auto deadline = Clock::now() + timeout;
  std::string* sinks[2] = {&result.out, &result.err};
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = result.timed_out ? -1 : Decode(status);
  return result;
}

Daemon::Daemon(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  char path[] = "/tmp/hollerith-daemon-stderr-XXXXXX";
  int err = mkstemp(path);
  stderr_path_ = path;
  pid_ = Spawn(argv, env, out[1], err);
  close(out[1]);
  close(err);
  out_fd_ = out[0];
}

Daemon::~Daemon() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  unlink(stderr_path_.c_str());
}

std::string Daemon::WaitForLine(const std::string& prefix, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buf[4096];
  for (auto it = passed_.begin(); it != passed_.end(); ++it) {
    if (it->rfind(prefix, 0) == 0) {
      std::string rest = it->substr(prefix.size());
      passed_.erase(it);
      return rest;
    }
  }
  while (true) {
    size_t nl;
    while ((nl = buffer_.find('\n')) != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
      passed_.push_back(std::move(line));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return "";
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) return "";
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

bool Daemon::WaitForLogLine(const std::function<bool(const std::string& line)>& match,
                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  // Watch before reading, so a line written in between still wakes us.
  const int notify = inotify_init1(IN_CLOEXEC);
  if (notify < 0 || inotify_add_watch(notify, stderr_path_.c_str(), IN_MODIFY) < 0) {
    if (notify >= 0) close(notify);
    throw std::runtime_error("inotify on " + stderr_path_);
  }
  bool found = false;
  while (!found) {
    std::ifstream log(stderr_path_, std::ios::binary);
    log.seekg(static_cast<std::streamoff>(stderr_offset_));
    std::string line;
    // Complete lines only: a line still being written is read again next time.
    while (!found && std::getline(log, line) && !log.eof()) {
      stderr_offset_ += line.size() + 1;
      found = match(line);
    }
    if (found) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{notify, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) > 0) {
      char events[4096];
      if (read(notify, events, sizeof events) < 0) break;
    }
  }
  close(notify);
  return found;
}

CommandResult RunLocal(const std::string& spec, const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout) {
  TempDir work;
  std::vector<std::string> argv = {HOLLERITH_CLI_PATH,   "run", "--local", spec, "--workdir",
                                   work.path() + "/work"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

std::string WaitForFileLine(const std::string& path, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string dir = path.substr(0, path.rfind('/'));
  const int notify = inotify_init1(IN_CLOEXEC);
  if (notify < 0 ||
      inotify_add_watch(notify, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY) < 0) {
    if (notify >= 0) close(notify);
    throw std::runtime_error("inotify on " + dir);
  }
  std::string line;
  for (;;) {
    std::ifstream in(path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (const size_t nl = content.find('\n'); nl != std::string::npos) {
      line = content.substr(0, nl);
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{notify, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) > 0) {
      char events[4096];
      if (read(notify, events, sizeof events) < 0) break;
    }
  }
  close(notify);
  return line;
}

bool WaitForProcessExit(pid_t pid, std::chrono::milliseconds timeout) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return errno == ESRCH;  // already gone
  pollfd p{pidfd, POLLIN, 0};
  const bool exited = poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  close(pidfd);
  return exited;
}

void Daemon::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

int Daemon::Wait(std::chrono::milliseconds timeout) {
  if (reaped_) return -1;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(timeout.count()));  // readable when the process has exited
    close(pidfd);
  }
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return -1;
  reaped_ = true;
  return Decode(status);
}

}  // namespace hollerith::testing
