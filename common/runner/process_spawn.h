// Low-level process start for the card runner: posix_spawn (never fork) into a new process group,
// stdin from /dev/null, stdout/stderr into fresh pipes, cwd set in the child, every other inherited
// descriptor closed, and a pidfd for the new process so its exit can be watched on an event loop.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace hollerith {

// An environment block for exec: the current process's environ with overrides applied in order
// (later entries win). Without overrides it is environ itself, copied by nobody.
class EnvBlock {
 public:
  using Vars = std::vector<std::pair<std::string, std::string>>;
  EnvBlock(const Vars& first, const Vars& second);
  EnvBlock(const EnvBlock&) = delete;
  EnvBlock& operator=(const EnvBlock&) = delete;
  char* const* data() const;

 private:
  void Set(const std::string& key, const std::string& value);
  std::vector<std::string> owned_;  // "KEY=VALUE" for overrides; reserved up front, never moves
  std::vector<char*> entries_;      // null-terminated; empty when environ is used as is
};

struct SpawnRequest {
  const char* program = nullptr;  // a path, or a bare name when search_path
  bool search_path = false;       // resolve `program` through PATH like execvp
  char* const* argv = nullptr;    // null-terminated
  char* const* envp = nullptr;    // null-terminated
  const char* workspace = nullptr;
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
