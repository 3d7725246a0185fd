// Low-level process start for the card runner: a vfork-style clone (the child shares the parent's
// memory and the parent waits until it has exec'ed, as glibc's posix_spawn does) into a new
// process group, stdin from /dev/null, stdout/stderr into fresh pipes, cwd set, resource limits
// and the card's user set in the child, every other inherited descriptor closed, and a pidfd for
// the new process so its exit can be watched on an event loop.
//
// Why not posix_spawn: it cannot set rlimits or switch users in the child, and setting limits
// from outside (prlimit on the child's pid) races with the card, which is already running. fork
// + setrlimit + exec would copy the daemon's page tables per card. So this does what posix_spawn
// does inside (clone(CLONE_VM | CLONE_VFORK) on a small stack of its own, every signal blocked
// around it) and adds setrlimit and setresuid/setresgid/setgroups between setpgid and exec. The
// child calls raw system calls only: glibc's setuid() would broadcast to the parent's threads
// (they share memory), and sanitizer interceptors must not see a half-process.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace hollerith {

// An environment block for exec, built from nothing (never the daemon's own environ): entries in
// order, a later one replacing an earlier one of the same name.
class EnvBlock {
 public:
  using Vars = std::vector<std::pair<std::string, std::string>>;
  explicit EnvBlock(std::initializer_list<const Vars*> layers);
  EnvBlock(const EnvBlock&) = delete;
  EnvBlock& operator=(const EnvBlock&) = delete;
  char* const* data() const { return entries_.data(); }

 private:
  void Set(const std::string& key, const std::string& value);
  std::vector<std::string> owned_;  // "KEY=VALUE"; reserved up front, never moves
  std::vector<char*> entries_;      // null-terminated
};

struct SpawnRlimit {
  int resource = 0;
  rlim_t soft = 0;
  rlim_t hard = 0;
};

struct SpawnUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

struct SpawnRequest {
  const char* program = nullptr;  // a path, or a bare name when search_path
  bool search_path = false;       // resolve `program` through the PATH of `envp` like execvp
  char* const* argv = nullptr;    // null-terminated
  char* const* envp = nullptr;    // null-terminated
  const char* workspace = nullptr;
  std::span<const SpawnRlimit> rlimits;  // set in the child before exec
  const SpawnUser* user = nullptr;       // switch to this user in the child (the daemon is root)
};

// The caller owns all three descriptors (all O_CLOEXEC) and must reap `pid`.
struct SpawnedProcess {
  pid_t pid = -1;  // also the process group id
  int pidfd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// Errors read "cannot start '<program>': <reason>"; nothing is left running or open on failure.
Result<SpawnedProcess> SpawnInProcessGroup(const SpawnRequest& request);

}  // namespace hollerith
