// The worker's Prometheus metrics (served by common/metrics' MetricsEndpoint on --metrics-listen).
// Histograms and counters are updated where things happen (atomics: no lock of ours, and the
// artifact ones from the transfer threads); the slot gauges are set just before a scrape, on the
// worker's loop. No label names a job, a card or a stack: cardinality is bounded.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>

namespace hollerith::worker {

// What RemoteArtifacts updates from its transfer threads.
struct ArtifactMetrics {
  prometheus::Counter* fetched_bytes = nullptr;
  prometheus::Counter* uploaded_bytes = nullptr;
  prometheus::Histogram* fetch_seconds = nullptr;
  prometheus::Histogram* upload_seconds = nullptr;
};

struct WorkerMetrics {
  WorkerMetrics();

  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Gauge* slots;
  prometheus::Gauge* slots_busy;
  prometheus::Gauge* cards_waiting;
  prometheus::Histogram* card_run;    // a card's run time (process or built-in)
  prometheus::Histogram* card_spawn;  // posix_spawn of a card's process, until it runs
  ArtifactMetrics artifacts;
};

}  // namespace hollerith::worker
