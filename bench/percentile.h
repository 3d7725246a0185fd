// The p-th percentile (0..100) of a sample, interpolated between the nearest ranks, as
// bench/bench_stats.py's percentile(): the benchmark tools' figures compare with the harness's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace hollerith::bench {

inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(rank);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

}  // namespace hollerith::bench
