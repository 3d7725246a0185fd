// The coordinator's Prometheus metrics (served by common/metrics' MetricsEndpoint). Counters and
// histograms are updated where things happen (prometheus-cpp's are atomic: no lock of ours);
// the gauges of state (jobs and cards by state, workers connected) are set just before a scrape
// by Coordinator::RefreshMetrics. The `_total` counters are what `rate()` needs: they count what
// happened in this process's life (a restart starts them at zero, which Prometheus handles).
// No label names a job, a card or a worker: cardinality is bounded. Tenants are named (there are
// few, chosen by the operator); their gauges are set with the others (SetTenant).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>

namespace hollerith::coordinator {

struct CoordinatorMetrics {
  CoordinatorMetrics();

  std::shared_ptr<prometheus::Registry> registry;
  std::array<prometheus::Gauge*, 4> jobs_by_state;   // indexed by JobState
  std::array<prometheus::Gauge*, 5> cards_by_state;  // indexed by CardState
  prometheus::Gauge* workers_connected;
  prometheus::Counter* jobs_submitted;
  std::array<prometheus::Counter*, 4> jobs_finished{};  // by JobState (running unused)
  std::array<prometheus::Counter*, 5>
      cards_finished{};           // by CardState (succeeded, failed, skipped)
  prometheus::Counter* releases;  // dependency releases sent to the worker holding the dependent
  // A card's finish report arrived -> the release of a dependent queued on its holder's stream.
  prometheus::Histogram* release_latency;
  // The core asked for a stack to be placed -> it was placed on a worker.
  prometheus::Histogram* placement_wait;
  prometheus::Counter* leases_expired;
  prometheus::Counter* replacements;  // stacks lost with their worker, to be placed again
  prometheus::Histogram* store_commit;
  prometheus::Counter* artifact_bytes_received;
  prometheus::Counter* artifact_bytes_sent;
  prometheus::Counter* log_bytes_stored;  // full card output uploaded by workers
  // The result cache (set from its stats before a scrape).
  prometheus::Counter* cache_hits;
  prometheus::Counter* cache_misses;
  prometheus::Counter* cache_evictions;
  prometheus::Gauge* cache_entries;
  prometheus::Gauge* cache_bytes;
  // Per tenant: stacks waiting (not placed), what its running cards hold (by resource: cpu in
  // cpus, memory in bytes, others in units), its weighted dominant share.
  prometheus::Family<prometheus::Gauge>* tenant_waiting;
  prometheus::Family<prometheus::Gauge>* tenant_in_use;
  prometheus::Family<prometheus::Gauge>* tenant_share;
};

}  // namespace hollerith::coordinator
