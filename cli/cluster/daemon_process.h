// Process plumbing for cli/local_cluster: finding the daemon binaries, spawning them under the
// child guard, and describing how they ended.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/base/status.h"

namespace hollerith::cli {

// `name` in $HOLLERITH_BIN_DIR if set; else next to the running executable, or in ../coordinator/
// or ../worker/ relative to it (the build tree's layout).
Result<std::string> FindDaemon(const std::string& name);

// posix_spawn of `program args...` through the child guard (cli/child_guard.h), with stdin from
// /dev/null, stdout and stderr on the given descriptors, default signal dispositions and mask, in a
// process group of its own (so Ctrl-C reaches only the CLI, which stops its children in order).
Result<pid_t> SpawnDaemon(const std::string& program, const std::vector<std::string>& args,
                          int stdout_fd, int stderr_fd);

// "exited with status 1", "was killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int wait_status);

// The last `lines` lines of a log file, each indented (no final newline), or a note that it is
// empty or unreadable.
std::string LogTail(const std::string& path, size_t lines = 20);

}  // namespace hollerith::cli
