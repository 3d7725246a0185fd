#include "worker/metrics.h"

#include <cmath>

#include "common/metrics/buckets.h"

namespace hollerith::worker {
namespace {

// cpu in cpus (it is kept in thousandths), memory in bytes, named ones as counts.
double GaugeValue(const Resources& r, std::string_view kind) {
  const auto amount = static_cast<double>(AmountOf(r, kind));
  return kind == "cpu" ? amount / static_cast<double>(kMilliCpu) : amount;
}

}  // namespace

WorkerMetrics::WorkerMetrics() : registry(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  slots = &BuildGauge()
               .Name("hollerith_worker_slots")
               .Help("Whole cpus this worker offers its cards (--slots, or cpu of --resources)")
               .Register(*registry)
               .Add({});
  slots_busy = &BuildGauge()
                    .Name("hollerith_worker_slots_busy")
                    .Help("Cpus held by running card processes, a partly held cpu counting as one")
                    .Register(*registry)
                    .Add({});
  cards_waiting = &BuildGauge()
                       .Name("hollerith_worker_cards_waiting")
                       .Help(
                           "Cards ready to run that wait for their stack's resources to be free "
                           "(higher priority first)")
                       .Register(*registry)
                       .Add({});
  capacity_ = &BuildGauge()
                   .Name("hollerith_worker_resource_capacity")
                   .Help(
                       "What this worker offers its cards, by resource: cpu in cpus, memory in "
                       "bytes, others as counts")
                   .Register(*registry);
  in_use_ = &BuildGauge()
                 .Name("hollerith_worker_resource_in_use")
                 .Help("What running card processes hold, by resource (their stacks' resources:)")
                 .Register(*registry);
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

void WorkerMetrics::SetCapacity(const Resources& capacity) {
  in_use_gauges_.clear();
  std::vector<std::string> kinds = {"cpu", "memory"};  // even at zero: dashboards expect them
  for (const auto& [name, amount] : capacity.named) kinds.push_back(name);
  for (const std::string& kind : kinds) {
    capacity_->Add({{"resource", kind}}).Set(GaugeValue(capacity, kind));
    in_use_gauges_.emplace_back(kind, &in_use_->Add({{"resource", kind}}));
  }
}

void WorkerMetrics::SetInUse(const Resources& in_use) {
  slots_busy->Set(std::ceil(GaugeValue(in_use, "cpu")));
  for (const auto& [kind, gauge] : in_use_gauges_) gauge->Set(GaugeValue(in_use, kind));
}

}  // namespace hollerith::worker
