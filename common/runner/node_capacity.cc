#include "common/runner/node_capacity.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

namespace hollerith {

size_t DetectedCpus() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 2 : std::min<size_t>(cores, 4096);
}

uint64_t DetectedMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

Resources DetectedCapacity(size_t cpus) {
  Resources r;
  r.cpu_milli = static_cast<uint64_t>(cpus == 0 ? DetectedCpus() : cpus) * kMilliCpu;
  r.memory_bytes = DetectedMemoryBytes();
  return r;
}

}  // namespace hollerith
