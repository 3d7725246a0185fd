// A card's limits as the kernel enforces them (rlimits set in the child before exec), and the
// reason a card that failed gives when it failed because of one.
//
//   memory    RLIMIT_DATA: the card's private writable memory (heap, anonymous mappings). Not
//             RLIMIT_AS, which also counts address space merely reserved (Go, Java and sanitizer
//             runtimes reserve far more than they use). An allocation past it fails.
//   cpu       RLIMIT_CPU, whole seconds (rounded up): SIGXCPU at the limit, SIGKILL a second later.
//             Per process: each process the card starts has its own allowance.
//   files     RLIMIT_NOFILE: descriptors open at once, per process.
//   processes RLIMIT_NPROC, which the kernel counts per *user*, not per card: every process and
//             thread of the user cards run as counts, all of that user's cards together. When
//             cards run as the node's own user, the node's own threads are added to the limit so
//             that they do not use up the card's allowance.
//
// The kernel says nothing when an allocation, open or fork fails for a limit; the card's program
// does, on stderr ("Cannot allocate memory", bash's "xmalloc: cannot allocate", Python's
// "MemoryError", "Too many open files", "Cannot fork", "fork: Resource temporarily unavailable"). A
// failed card whose stderr says so is reported as over that limit ("memory limit 64MiB exceeded (an
// allocation failed)"); a card killed by SIGXCPU, or by SIGKILL after its CPU time reached the
// limit, as "killed: cpu limit 1s exceeded".
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/runner/process_spawn.h"
#include "common/spec/job.h"

namespace hollerith {

// The rlimits for `limits`; `extra_processes` is added to the process limit (see above).
std::vector<SpawnRlimit> RlimitsFor(const CardLimits& limits, uint64_t extra_processes);

// The number of threads of this process (0 if unknown).
uint64_t OwnThreadCount();

// Why a card that ended with `wait_status` (and used `cpu_time`, writing `stderr_text`) failed
// because of one of `limits`, or "" when nothing says so.
std::string LimitBreach(const CardLimits& limits, int wait_status,
                        std::chrono::milliseconds cpu_time, std::string_view stderr_text);

}  // namespace hollerith
