// Children that never outlive the CLI. posix_spawn cannot set PR_SET_PDEATHSIG, so daemons started
// by `hollerith up` / `run --workers` are spawned through this binary in a hidden mode
// (`hollerith __child-guard PARENT_PID PROGRAM ARGS...`) that sets it and then execs PROGRAM: if
// the CLI dies, even by SIGKILL, the kernel sends its children SIGTERM.
#pragma once

namespace hollerith::cli {

inline constexpr const char* kChildGuardCommand = "__child-guard";

// Returns if argv is not a child-guard invocation; otherwise execs PROGRAM or exits 127.
void MaybeRunChildGuard(int argc, char** argv);

}  // namespace hollerith::cli
