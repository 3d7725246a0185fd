// What a stack asks of a worker and what a worker has: `cpu` (in thousandths, so "0.5" and
// "500m" are exact), `memory` (bytes) and any named, countable resource (`gpu`, `licence`).
// A stack's `resources:` in a spec, a worker's `--resources` and a tenant's quota are all written
// the same way ("cpu=2,memory=4GiB,gpu=1" on a command line; a map in YAML) and read here, so a
// request, a capacity and a quota always compare like with like.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace hollerith {

inline constexpr uint64_t kMilliCpu = 1000;
// A stack that says nothing asks for one cpu (as a card took one slot before resources existed).
inline constexpr uint64_t kDefaultCpuMilli = kMilliCpu;
// Bounds that keep every sum of requests far from overflow.
inline constexpr uint64_t kMaxCpuMilli = uint64_t{1} << 40;
inline constexpr uint64_t kMaxNamedAmount = uint64_t{1} << 40;
inline constexpr size_t kMaxNamedResources = 32;

struct Resources {
  uint64_t cpu_milli = 0;
  uint64_t memory_bytes = 0;
  std::vector<std::pair<std::string, uint64_t>> named;  // sorted by name, no zero amounts

  uint64_t Named(std::string_view name) const;
  void SetNamed(std::string_view name, uint64_t amount);
  bool empty() const { return cpu_milli == 0 && memory_bytes == 0 && named.empty(); }
  // Every amount of `request` is at most this one's.
  bool Holds(const Resources& request) const;
  Resources& operator+=(const Resources& other);
  Resources& operator-=(const Resources& other);  // amounts never go below zero
  friend bool operator==(const Resources&, const Resources&) = default;
};

// A stack's request when its spec says nothing.
Resources DefaultRequest();

// The kinds a resource name may be: cpu, memory, or a name of 1..32 of a-z 0-9 _ - starting
// with a letter.
bool IsResourceName(std::string_view name);
// Sets one amount from its text: cpu "2", "0.5", "250m"; memory "4GiB", "512MiB", "4G" (10^9),
// "4Gi" (2^30), a bare number of bytes; others a whole number. Zero is allowed, negative or
// malformed amounts are errors naming the key.
Status SetResource(Resources& r, std::string_view name, std::string_view value);
// "cpu=2,memory=4GiB,gpu=1" (any subset; empty text is nothing).
Result<Resources> ParseResourceList(std::string_view text);
// The same form back: "cpu=2,memory=4GiB,gpu=1" (cpu and memory only when set; "" when empty).
std::string FormatResources(const Resources& r);
// One amount as people read it: "2", "0.5" (cpu), "4GiB" (memory), "3".
std::string FormatAmount(std::string_view name, uint64_t amount);
// Every kind `a` or `b` has a non-zero amount of, in order: cpu, memory, then named ones.
std::vector<std::string> KindsOf(const Resources& a, const Resources& b);
uint64_t AmountOf(const Resources& r, std::string_view kind);

}  // namespace hollerith
