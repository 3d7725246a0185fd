#include "proto/rpc_runtime.h"

#include <absl/synchronization/mutex.h>

namespace hollerith::rpc {

void SkipMutexCycleChecks() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace hollerith::rpc
