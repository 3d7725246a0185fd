// Packs a burst of releases to one card into one message (ReleaseMsg::also_from). A combine's
// placement releases it from each of its 10,000 stacks at once: as 10,000 messages, each with
// its job id, two card references and a clock of its own, they cost the coordinator, the wire and
// the worker about a microsecond apiece; packed, a few nanoseconds per card.
#pragma once

#include <cstddef>
#include <vector>

#include "common/core/scheduler_core.h"

namespace hollerith::coordinator {

// Cards per packed release: keeps a message far below gRPC's 4 MiB limit.
inline constexpr size_t kMaxPackedReleases = 8192;

// actions[first] is a ReleaseMsg. Folds into it the releases right after it that go to the same
// card of the same attempt, none carrying outputs (their cards into also_from, their clocks
// merged, the latest lamport); returns the index after the last one folded. The core's record
// is untouched: it traced each release when it decided it.
size_t PackReleases(std::vector<CoreAction>& actions, size_t first);

}  // namespace hollerith::coordinator
