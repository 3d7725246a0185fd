#include "common/runner/process_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

extern char** environ;

namespace hollerith {

namespace {

std::string ErrnoText(int err) { return std::generic_category().message(err); }

void CloseQuietly(int fd) {
  if (fd >= 0) ::close(fd);
}

// A pipe end numbered 0..2 (possible when the daemon runs with closed standard descriptors) would
// be clobbered by the child's own dup2 onto 0..2; move it out of the way.
int AboveStdio(int fd) {
  if (fd > 2) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

Status MakePipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Error("cannot create pipe: " + ErrnoText(errno));
  fds[0] = AboveStdio(fds[0]);
  fds[1] = AboveStdio(fds[1]);
  if (fds[0] < 0 || fds[1] < 0) {
    int err = errno;
    CloseQuietly(fds[0]);
    CloseQuietly(fds[1]);
    return Status::Error("cannot create pipe: " + ErrnoText(err));
  }
  return Status::Ok();
}

// RAII for the two posix_spawn configuration objects.
struct SpawnConfig {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnConfig() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnConfig() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnConfig(const SpawnConfig&) = delete;
  SpawnConfig& operator=(const SpawnConfig&) = delete;
};

int Configure(SpawnConfig& config, const SpawnRequest& request, int out_w, int err_w) {
  int rc = 0;
  auto step = [&rc](int r) {
    if (rc == 0) rc = r;
  };
  step(posix_spawn_file_actions_addopen(&config.actions, 0, "/dev/null", O_RDONLY, 0));
  step(posix_spawn_file_actions_adddup2(&config.actions, out_w, 1));
  step(posix_spawn_file_actions_adddup2(&config.actions, err_w, 2));
  step(posix_spawn_file_actions_addchdir_np(&config.actions, request.workspace));
  // Descriptors the daemon leaked without O_CLOEXEC must not reach cards (nor keep our pipes open).
  step(posix_spawn_file_actions_addclosefrom_np(&config.actions, 3));

  // Own process group (pgid = pid) so a timeout can signal everything the card started. Signals the
  // daemon ignores (SIGPIPE, typically) or blocks would otherwise be inherited across exec.
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGXFSZ, SIGTSTP, SIGTTIN,
                  SIGTTOU, SIGUSR1, SIGUSR2, SIGALRM}) {
    sigaddset(&defaults, sig);
  }
  step(posix_spawnattr_setflags(
      &config.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
  step(posix_spawnattr_setpgroup(&config.attr, 0));
  step(posix_spawnattr_setsigmask(&config.attr, &empty));
  step(posix_spawnattr_setsigdefault(&config.attr, &defaults));
  return rc;
}

std::string StartError(const SpawnRequest& request, int err) {
  std::string reason;
  struct stat st;
  if (::stat(request.workspace, &st) != 0) {
    reason = "workspace '" + std::string(request.workspace) + "': " + ErrnoText(errno);
  } else if (!S_ISDIR(st.st_mode)) {
    reason = "workspace '" + std::string(request.workspace) + "' is not a directory";
  } else {
    reason = ErrnoText(err);
  }
  return "cannot start '" + std::string(request.program) + "': " + reason;
}

}  // namespace

EnvBlock::EnvBlock(const Vars& first, const Vars& second) {
  if (first.empty() && second.empty()) return;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) entries_.push_back(*e);
  owned_.reserve(first.size() + second.size());
  for (const auto& [key, value] : first) Set(key, value);
  for (const auto& [key, value] : second) Set(key, value);
  entries_.push_back(nullptr);
}

void EnvBlock::Set(const std::string& key, const std::string& value) {
  std::string& entry = owned_.emplace_back();
  entry.reserve(key.size() + 1 + value.size());
  entry.append(key).append(1, '=').append(value);
  for (char*& existing : entries_) {
    if (std::strncmp(existing, key.data(), key.size()) == 0 && existing[key.size()] == '=') {
      existing = entry.data();
      return;
    }
  }
  entries_.push_back(entry.data());
}

char* const* EnvBlock::data() const { return entries_.empty() ? environ : entries_.data(); }

Result<SpawnedProcess> SpawnInProcessGroup(const SpawnRequest& request) {
  int out[2];
  int err[2];
  if (Status s = MakePipe(out); !s.ok()) return s;
  if (Status s = MakePipe(err); !s.ok()) {
    CloseQuietly(out[0]);
    CloseQuietly(out[1]);
    return s;
  }

  pid_t pid = -1;
  int rc;
  {
    SpawnConfig config;
    rc = Configure(config, request, out[1], err[1]);
    if (rc == 0) {
      // glibc runs the child with CLONE_VFORK and returns the exec failure (e.g. ENOENT) here,
      // having already reaped the failed child.
      rc = request.search_path ? ::posix_spawnp(&pid, request.program, &config.actions,
                                                &config.attr, request.argv, request.envp)
                               : ::posix_spawn(&pid, request.program, &config.actions, &config.attr,
                                               request.argv, request.envp);
    }
  }
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return Status::Error(StartError(request, rc));
  }

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int e = errno;
    ::kill(-pid, SIGKILL);
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::close(out[0]);
    ::close(err[0]);
    return Status::Error("cannot watch '" + std::string(request.program) +
                         "': pidfd_open: " + ErrnoText(e));
  }
  return SpawnedProcess{pid, pidfd, out[0], err[0]};
}

}  // namespace hollerith
