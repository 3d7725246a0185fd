#include "coordinator/metrics.h"

#include "common/core/scheduler_core.h"
#include "common/metrics/buckets.h"

namespace hollerith::coordinator {

CoordinatorMetrics::CoordinatorMetrics() : registry(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  auto& jobs = BuildGauge().Name("hollerith_jobs").Help("Jobs kept, by state").Register(*registry);
  for (size_t s = 0; s < jobs_by_state.size(); ++s) {
    jobs_by_state[s] = &jobs.Add({{"state", JobStateName(static_cast<JobState>(s))}});
  }
  auto& cards = BuildGauge()
                    .Name("hollerith_cards")
                    .Help("Cards of the jobs kept, by state")
                    .Register(*registry);
  for (size_t s = 0; s < cards_by_state.size(); ++s) {
    cards_by_state[s] = &cards.Add({{"state", CardStateName(static_cast<CardState>(s))}});
  }
  tenant_waiting = &BuildGauge()
                        .Name("hollerith_tenant_waiting_stacks")
                        .Help("Stacks of the tenant waiting to be placed (quota, or no worker)")
                        .Register(*registry);
  tenant_in_use = &BuildGauge()
                       .Name("hollerith_tenant_in_use")
                       .Help(
                           "What the tenant's running cards hold, by resource (cpu in cpus, "
                           "memory in bytes)")
                       .Register(*registry);
  tenant_share = &BuildGauge()
                      .Name("hollerith_tenant_share")
                      .Help(
                          "The tenant's dominant share of the cluster in use, divided by its "
                          "weight")
                      .Register(*registry);
  workers_connected = &BuildGauge()
                           .Name("hollerith_workers_connected")
                           .Help("Workers with a live session")
                           .Register(*registry)
                           .Add({});
  jobs_submitted = &BuildCounter()
                        .Name("hollerith_jobs_submitted_total")
                        .Help("Jobs accepted (a resubmission with a known idempotency key is not)")
                        .Register(*registry)
                        .Add({});
  auto& jobs_done = BuildCounter()
                        .Name("hollerith_jobs_finished_total")
                        .Help("Jobs ended, by state")
                        .Register(*registry);
  for (JobState s : {JobState::kSucceeded, JobState::kFailed, JobState::kCancelled}) {
    jobs_finished[static_cast<size_t>(s)] = &jobs_done.Add({{"state", JobStateName(s)}});
  }
  auto& cards_done = BuildCounter()
                         .Name("hollerith_cards_finished_total")
                         .Help(
                             "Cards ended, by state: succeeded or failed as their worker reported "
                             "them (after retries), skipped when their job ended")
                         .Register(*registry);
  for (CardState s : {CardState::kSucceeded, CardState::kFailed, CardState::kSkipped}) {
    cards_finished[static_cast<size_t>(s)] = &cards_done.Add({{"state", CardStateName(s)}});
  }
  releases = &BuildCounter()
                  .Name("hollerith_dependency_releases_total")
                  .Help("Dependency releases sent to the worker holding the dependent card")
                  .Register(*registry)
                  .Add({});
  release_latency =
      &BuildHistogram()
           .Name("hollerith_dependency_release_latency_seconds")
           .Help(
               "From a card's finish report arriving to the release of a dependent card "
               "queued on the stream of the worker holding it")
           .Register(*registry)
           .Add({}, LatencyBuckets());
  placement_wait = &BuildHistogram()
                        .Name("hollerith_placement_wait_seconds")
                        .Help("From a stack being ready for placement to its placement on a worker")
                        .Register(*registry)
                        .Add({}, LatencyBuckets());
  leases_expired = &BuildCounter()
                        .Name("hollerith_leases_expired_total")
                        .Help("Workers dropped for missing their lease")
                        .Register(*registry)
                        .Add({});
  replacements = &BuildCounter()
                      .Name("hollerith_stack_replacements_total")
                      .Help("Stacks lost with their worker (or a restart) and placed again")
                      .Register(*registry)
                      .Add({});
  store_commit = &BuildHistogram()
                      .Name("hollerith_store_commit_seconds")
                      .Help("Duration of one commit (transaction) of the durable job store")
                      .Register(*registry)
                      .Add({}, LatencyBuckets());
  auto& artifacts = BuildCounter()
                        .Name("hollerith_artifact_bytes_total")
                        .Help("Bytes of artifacts moved by the coordinator, by direction")
                        .Register(*registry);
  artifact_bytes_received = &artifacts.Add({{"direction", "received"}});
  artifact_bytes_sent = &artifacts.Add({{"direction", "sent"}});
  log_bytes_stored = &BuildCounter()
                          .Name("hollerith_log_bytes_stored_total")
                          .Help("Bytes of full card output (beyond the result document) stored")
                          .Register(*registry)
                          .Add({});
  auto counter = [this](const char* name, const char* help) {
    return &BuildCounter().Name(name).Help(help).Register(*registry).Add({});
  };
  auto gauge = [this](const char* name, const char* help) {
    return &BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  };
  cache_hits = counter("hollerith_cache_hits_total",
                       "Cacheable cards whose result came from the result cache");
  cache_misses = counter("hollerith_cache_misses_total",
                         "Cacheable cards looked up and not found in the result cache");
  cache_evictions = counter("hollerith_cache_evictions_total",
                            "Result cache entries evicted to keep --cache-max-bytes");
  cache_entries = gauge("hollerith_cache_entries", "Entries in the result cache");
  cache_bytes =
      gauge("hollerith_cache_bytes", "Bytes the result cache's entries hold (stdout and outputs)");
}

}  // namespace hollerith::coordinator
