#include "common/cache/card_cache.h"

#include <spdlog/spdlog.h>

#include <system_error>

namespace hollerith {

const char* CacheModeName(CacheMode mode) {
  switch (mode) {
    case CacheMode::kOn:
      return "on";
    case CacheMode::kRefresh:
      return "refresh";
    case CacheMode::kReadOnly:
      return "read-only";
  }
  return "?";
}

bool ParseCacheMode(std::string_view text, CacheMode* mode) {
  if (text == "on") {
    *mode = CacheMode::kOn;
  } else if (text == "refresh" || text == "off") {
    *mode = CacheMode::kRefresh;
  } else if (text == "read-only") {
    *mode = CacheMode::kReadOnly;
  } else {
    return false;
  }
  return true;
}

CardCache::CardCache(ResultCache* entries, std::string unavailable, ArtifactStore* run_store,
                     ArtifactStore* cache_store)
    : entries_(entries),
      unavailable_(std::move(unavailable)),
      run_store_(run_store),
      cache_store_(cache_store) {}

std::optional<CachedCard> CardCache::Lookup(const CacheScope& scope, const SchedulerCore& core,
                                            const CacheQueryAction& query, std::string* note) {
  if (!entries_) {
    *note = "miss: the cache is unavailable (" + unavailable_ + ")";
    return std::nullopt;
  }
  if (scope.mode == CacheMode::kRefresh) {
    *note = "miss: --no-cache (the entry is refreshed)";
    return std::nullopt;
  }
  const int64_t now = SystemTime().WallMicros();
  std::optional<CacheEntry> entry = entries_->Lookup(scope.scope, query.key->key, now);
  if (!entry) {
    const std::optional<ResultCache::CardHistory> last =
        entries_->LastHistory(scope.scope, scope.job_name, core.job().card_name(query.card));
    if (!last) {
      *note = "miss: no entry for this card yet";
    } else {
      // From the index's tags of the parts: no read of the file on the way to running the card.
      const std::string changed = ChangedCacheKeyParts(*query.key, last->part_tags);
      *note = "miss: " + (changed.empty() ? std::string("key") : changed) + " changed since job " +
              last->job;
    }
    return std::nullopt;
  }
  // Its files must be there, whole: a damaged entry is dropped and the card runs.
  for (const auto& [path, digest] : entry->outputs) {
    Status there =
        cache_store_->Has(digest) ? Status::Ok() : Status::NotFound("its file is missing");
    if (there.ok() && run_store_ != cache_store_ && !run_store_->Has(digest)) {
      there = cache_store_->Materialize(digest, run_store_->PathOf(digest));
    }
    if (!there.ok()) {
      spdlog::warn("cache entry {} of {} dropped: output {}: {}", entry->key.substr(0, 12),
                   entry->card_name, path, there.message());
      std::vector<std::string> orphaned;
      (void)entries_->Remove(scope.scope, entry->key, &orphaned);
      DropFiles(orphaned);
      *note = "miss: the entry was damaged (output " + path + ": " + there.message() +
              ") and is dropped";
      return std::nullopt;
    }
  }
  *note = "hit: job " + entry->job;
  return CachedCard{
      query.card.card,         entry->exit_code,          std::move(entry->stdout_text),
      entry->stdout_truncated, std::move(entry->outputs), entry->job};
}

void CardCache::Record(const CacheScope& scope, const SchedulerCore& core, CardRef card) {
  if (!entries_ || scope.mode == CacheMode::kReadOnly) return;
  const CacheKeyParts* key = core.cache_key(card);
  const CardRecord& record = core.record(card);
  if (!key || record.state != CardState::kSucceeded || !record.out().cached_from.empty()) return;
  CacheEntry entry;
  entry.scope = scope.scope;
  entry.key = key->key;
  entry.job = scope.job_id;
  entry.job_name = scope.job_name;
  entry.card_name = core.job().card_name(card);
  entry.exit_code = record.exit_code;
  entry.stdout_text = record.out().stdout_text;
  entry.stdout_truncated = record.out().stdout_truncated;
  entry.outputs = record.out().outputs;
  entry.parts = key->Named();
  entry.bytes = entry.stdout_text.size();
  for (const auto& [path, digest] : entry.outputs) {
    if (run_store_ != cache_store_ && !cache_store_->Has(digest)) {
      if (Result<std::string> copied = cache_store_->Put(run_store_->PathOf(digest));
          !copied.ok() || *copied != digest) {
        spdlog::warn("card {} is not cached: cannot keep output {}: {}", entry.card_name, path,
                     copied.ok() ? "its content changed" : copied.message());
        return;
      }
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(cache_store_->PathOf(digest), ec);
    if (!ec) entry.bytes += size;
  }
  entry.created_us = SystemTime().WallMicros();
  Result<std::vector<std::string>> put = entries_->Put(std::move(entry));
  if (!put.ok()) {
    spdlog::warn("card {} is not cached: {}", core.job().card_name(card), put.message());
    return;
  }
  DropFiles(*put);
}

void CardCache::DropFiles(const std::vector<std::string>& digests) {
  if (run_store_ == cache_store_) return;  // the coordinator's files are the jobs' too
  for (const std::string& digest : digests) {
    std::error_code ec;
    std::filesystem::remove(cache_store_->PathOf(digest), ec);
  }
}

}  // namespace hollerith
