#include "common/metrics/buckets.h"

namespace hollerith {

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double s = 10e-6; s < 60; s *= 2.5) b.push_back(s);
  return b;
}

}  // namespace hollerith
