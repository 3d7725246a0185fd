// The worker's Prometheus metrics (served by common/metrics' MetricsEndpoint on --metrics-listen).
// Histograms and counters are updated where things happen (atomics: no lock of ours, and the
// artifact ones from the transfer threads); the resource gauges are set just before a scrape, on
// the worker's loop. No label names a job, a card or a stack: cardinality is bounded (the kinds of
// resources are the worker's own, fixed at start).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/spec/resources.h"

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

  // hollerith_worker_resource_capacity{resource=KIND} of each kind the worker has; once, at start.
  void SetCapacity(const Resources& capacity);
  // hollerith_worker_resource_in_use of those kinds, and slots_busy: the cpus in use.
  void SetInUse(const Resources& in_use);

  std::shared_ptr<prometheus::Registry> registry;
  // The cpu figures in whole cpus, as before resources (dashboards use them).
  prometheus::Gauge* slots;
  prometheus::Gauge* slots_busy;
  prometheus::Gauge* cards_waiting;
  prometheus::Histogram* card_run;    // a card's run time (process or built-in)
  prometheus::Histogram* card_spawn;  // posix_spawn of a card's process, until it runs
  ArtifactMetrics artifacts;

 private:
  prometheus::Family<prometheus::Gauge>* capacity_;
  prometheus::Family<prometheus::Gauge>* in_use_;
  std::vector<std::pair<std::string, prometheus::Gauge*>> in_use_gauges_;  // kind, gauge
};

}  // namespace hollerith::worker
