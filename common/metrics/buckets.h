// Histogram buckets shared by the daemons' metrics, in base units (seconds, bytes).
#pragma once

#include <prometheus/histogram.h>

namespace hollerith {

// 10 us .. ~42 s, a factor of 2.5 apart: covers a loopback release hop and a long card alike.
prometheus::Histogram::BucketBoundaries LatencyBuckets();

}  // namespace hollerith
