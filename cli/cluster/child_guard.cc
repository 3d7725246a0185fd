#include "cli/cluster/child_guard.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hollerith::cli {

void MaybeRunChildGuard(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[1], kChildGuardCommand) != 0) return;
  const pid_t parent = static_cast<pid_t>(std::strtol(argv[2], nullptr, 10));
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
    std::perror("hollerith: prctl(PR_SET_PDEATHSIG)");
    _exit(127);
  }
  // The parent may have died before the prctl: then nobody would signal us.
  if (getppid() != parent) _exit(127);
  execv(argv[3], argv + 3);
  std::fprintf(stderr, "hollerith: cannot start %s: %s\n", argv[3], std::strerror(errno));
  _exit(127);
}

}  // namespace hollerith::cli
