#include "worker/metrics.h"

#include "common/metrics/buckets.h"

namespace hollerith::worker {

WorkerMetrics::WorkerMetrics() : registry(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  slots = &BuildGauge()
               .Name("hollerith_worker_slots")
               .Help("Cards this worker runs at once (--slots)")
               .Register(*registry)
               .Add({});
  slots_busy = &BuildGauge()
                    .Name("hollerith_worker_slots_busy")
                    .Help("Slots held by a running card process")
                    .Register(*registry)
                    .Add({});
  cards_waiting = &BuildGauge()
                       .Name("hollerith_worker_cards_waiting")
                       .Help("Cards ready to run that wait for a free slot (higher priority first)")
                       .Register(*registry)
                       .Add({});
  card_run = &BuildHistogram()
                  .Name("hollerith_worker_card_run_seconds")
                  .Help("Run time of the cards this worker ran (processes and built-ins)")
                  .Register(*registry)
                  .Add({}, LatencyBuckets());
  card_spawn = &BuildHistogram()
                    .Name("hollerith_worker_card_spawn_seconds")
                    .Help("Time to spawn a card's process (posix_spawn until it runs)")
                    .Register(*registry)
                    .Add({}, LatencyBuckets());
  auto& bytes = BuildCounter()
                    .Name("hollerith_worker_artifact_bytes_total")
                    .Help("Bytes of artifacts moved to or from the coordinator, by direction")
                    .Register(*registry);
  artifacts.fetched_bytes = &bytes.Add({{"direction", "fetched"}});
  artifacts.uploaded_bytes = &bytes.Add({{"direction", "uploaded"}});
  auto& seconds = BuildHistogram()
                      .Name("hollerith_worker_artifact_transfer_seconds")
                      .Help("Duration of one artifact transfer with the coordinator, by direction")
                      .Register(*registry);
  artifacts.fetch_seconds = &seconds.Add({{"direction", "fetched"}}, LatencyBuckets());
  artifacts.upload_seconds = &seconds.Add({{"direction", "uploaded"}}, LatencyBuckets());
}

}  // namespace hollerith::worker
