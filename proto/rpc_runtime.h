// Process-wide settings of the gRPC runtime, made once at the start of a daemon's main (and of the
// benchmark's gRPC tools, so that their floor is measured as the daemons run).
#pragma once

namespace hollerith::rpc {

// Turns off abseil's lock-order (deadlock cycle) checks in gRPC's mutexes. Debian's abseil is
// built with them on: every lock of every call's mutex is entered into one process-wide graph,
// 3 % of a coordinator's CPU at 10,000 worker sessions (GraphCycles::GetId). They check gRPC's
// own locking, not ours (our locks are std::mutex, checked by the TSan suite).
void SkipMutexCycleChecks();

}  // namespace hollerith::rpc
