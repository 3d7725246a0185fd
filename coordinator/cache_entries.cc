// The coordinator's side of the result cache: answering the cores' lookups, keeping fresh
// successes, `hollerith cache`, and the cache's metrics. Entries are scoped by tenant: a job uses
// and keeps only its own tenant's, and a caller sees and removes only its own tenant's.
#include <spdlog/spdlog.h>

#include "coordinator/coordinator.h"
#include "proto/cache_wire.h"
#include "proto/wire.h"

namespace hollerith::coordinator {
void Coordinator::SetResultCache(std::unique_ptr<ResultCache> entries, std::string unavailable,
                                 ArtifactStore* store) {
  cache_entries_ = std::move(entries);
  cache_ = std::make_unique<CardCache>(cache_entries_.get(), std::move(unavailable), store, store);
}

void Coordinator::LookUpCache(Job& job, const CacheQueryAction& query,
                              std::vector<CachedCard>& for_assign) {
  if (!cache_) return;  // no artifact store: nothing could be restored
  std::optional<CachedCard> hit =
      cache_->Lookup(job.cache_scope(), *job.core, query, &job.cache_notes[query.card]);
  if (cache_entries_ && cache_entries_->has_pending()) ScheduleCommit();  // its last use
  if (!hit) return;
  if (query.for_assign) {
    for_assign.push_back(std::move(*hit));
    return;
  }
  const CacheHitMsg msg{query.card.stack, query.attempt, std::move(*hit), clock_.now()};
  SendToHolder(job, query.card.stack,
               [&](v1::CoordinatorMessage& m) { wire::ToProto(job.id, msg, m.add_cache_hits()); });
}

void Coordinator::RecordCache(Job& job, CardRef card) {
  if (!cache_ || job.core->cache_key(card) == nullptr) return;  // not cacheable: nothing to do
  cache_->Record(job.cache_scope(), *job.core, card);
  if (cache_entries_ && cache_entries_->has_pending()) ScheduleCommit();  // with the journal's
}

Status Coordinator::ListCache(const v1::ListCacheRequest& req, const std::string& identity,
                              v1::ListCacheResponse* resp) {
  CheckOwner();
  clock_.Receive(req.lamport());
  auto tenant = tenants_.TenantFor(identity, "");
  if (!tenant.ok()) return tenant.status();
  ResultCache* entries = cache_ ? cache_->entries() : nullptr;
  if (!entries) {
    resp->set_unavailable(cache_ ? "the cache database could not be opened (see the log)"
                                 : "the coordinator has no artifact store");
  } else {
    const CacheStats stats = entries->stats();
    resp->set_entries_total(stats.entries);
    resp->set_bytes_total(stats.bytes);
    resp->set_max_bytes(entries->max_bytes());
    resp->set_hits(stats.hits);
    resp->set_misses(stats.misses);
    resp->set_evictions(stats.evictions);
    for (const CacheEntry& e : entries->List(*tenant)) {
      if (!req.key().empty()) {
        if (e.key.compare(0, req.key().size(), req.key()) != 0) continue;
        // `show`: the whole entry, stdout too.
        wire::ToProto(entries->Peek(e.scope, e.key).value_or(e), resp->add_entries());
        continue;
      }
      wire::ToProto(e, resp->add_entries());
    }
  }
  resp->set_lamport(clock_.Tick());
  return Status::Ok();
}

Status Coordinator::RemoveCache(const v1::RemoveCacheRequest& req, const std::string& identity,
                                v1::RemoveCacheResponse* resp) {
  CheckOwner();
  clock_.Receive(req.lamport());
  auto tenant = tenants_.TenantFor(identity, "");
  if (!tenant.ok()) return tenant.status();
  ResultCache* entries = cache_ ? cache_->entries() : nullptr;
  if (!entries) return Status::FailedPrecondition("the coordinator runs without a result cache");
  Result<size_t> removed = Status::Ok();
  if (req.key().empty()) {
    removed = entries->Clear(*tenant);
  } else {
    size_t n = 0;
    for (const CacheEntry& e : entries->List(*tenant)) {
      if (e.key.compare(0, req.key().size(), req.key()) != 0) continue;
      Result<size_t> one = entries->Remove(*tenant, e.key);
      if (!one.ok()) return one.status();
      n += *one;
    }
    if (n == 0) return Status::NotFound("no cache entry " + req.key() + " of tenant " + *tenant);
    removed = n;
  }
  if (!removed.ok()) return removed.status();
  spdlog::info("cache: {} entr{} of tenant {} removed", *removed, *removed == 1 ? "y" : "ies",
               *tenant);
  resp->set_removed(*removed);
  resp->set_lamport(clock_.Tick());
  return Status::Ok();
}

void Coordinator::RefreshCacheMetrics() {
  ResultCache* entries = cache_ ? cache_->entries() : nullptr;
  if (!metrics_ || !entries) return;
  const CacheStats now = entries->stats();
  metrics_->cache_hits->Increment(static_cast<double>(now.hits - cache_counted_.hits));
  metrics_->cache_misses->Increment(static_cast<double>(now.misses - cache_counted_.misses));
  metrics_->cache_evictions->Increment(
      static_cast<double>(now.evictions - cache_counted_.evictions));
  metrics_->cache_entries->Set(static_cast<double>(now.entries));
  metrics_->cache_bytes->Set(static_cast<double>(now.bytes));
  cache_counted_ = now;
}

}  // namespace hollerith::coordinator
