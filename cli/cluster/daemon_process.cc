#include "cli/cluster/daemon_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/cluster/child_guard.h"

extern char** environ;

namespace hollerith::cli {
namespace fs = std::filesystem;

Result<std::string> FindDaemon(const std::string& name) {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("HOLLERITH_BIN_DIR"); env != nullptr && *env != '\0') {
    dirs.emplace_back(env);
  } else {
    std::error_code ec;
    const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
    if (ec) return Status::Error("cannot find " + name + ": /proc/self/exe: " + ec.message());
    dirs = {exe_dir, exe_dir.parent_path() / "coordinator", exe_dir.parent_path() / "worker"};
  }
  std::string looked;
  for (const auto& dir : dirs) {
    const fs::path candidate = (dir / name).lexically_normal();
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    looked += (looked.empty() ? "" : ", ") + dir.lexically_normal().string();
  }
  return Status::Error("cannot find " + name + " (looked in " + looked +
                       "); set HOLLERITH_BIN_DIR to the directory that holds it");
}

Result<pid_t> SpawnDaemon(const std::string& program, const std::vector<std::string>& args,
                          int stdout_fd, int stderr_fd) {
  std::error_code ec;
  const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) return Status::Error("cannot start " + program + ": /proc/self/exe: " + ec.message());
  std::vector<std::string> words = {self, kChildGuardCommand, std::to_string(::getpid()), program};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  // A local cluster is loopback plaintext with its own token: a shell's TLS settings (meant for a
  // remote cluster) must not reach its daemons.
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "HOLLERITH_TLS_", 14) != 0) env.push_back(*e);
  }
  env.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, self.c_str(), &actions, &attr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::Error("cannot start " + program + ": " + std::strerror(rc));
  return pid;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "ended (wait status " + std::to_string(wait_status) + ")";
}

std::string LogTail(const std::string& path, size_t lines) {
  constexpr std::streamoff kMaxBytes = 16 * 1024;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "  (cannot read " + path + ")";
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > kMaxBytes ? size - kMaxBytes : 0;
  in.seekg(start);
  std::string text(static_cast<size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return "  (" + path + " is empty)";
  size_t pos = text.size();
  for (size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
  }
  const std::string tail = pos == std::string::npos ? text : text.substr(pos + 1);
  std::string out;
  size_t begin = 0;
  while (begin <= tail.size()) {
    size_t end = tail.find('\n', begin);
    if (end == std::string::npos) end = tail.size();
    out += (out.empty() ? "  | " : "\n  | ") + tail.substr(begin, end - begin);
    begin = end + 1;
  }
  return out;
}

}  // namespace hollerith::cli
