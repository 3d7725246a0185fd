// What a node has, as found on the machine: its cores and its physical memory. A worker's
// capacity starts from these (--resources and --slots may say otherwise); named resources such as
// gpu are never guessed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/spec/resources.h"

namespace hollerith {

// The number of cores (2 if unknown, at most 4096).
size_t DetectedCpus();
// Physical memory in bytes (0 if unknown).
uint64_t DetectedMemoryBytes();
// cpu = `cpus` (DetectedCpus() when 0), memory = DetectedMemoryBytes().
Resources DetectedCapacity(size_t cpus = 0);

}  // namespace hollerith
