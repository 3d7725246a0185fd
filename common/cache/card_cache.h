// Family common/cache/ (library hollerith_card_cache): the result cache as a job's wiring uses it
// (the coordinator, `hollerith run --local`). May use: the scheduler core's actions and records,
// the result cache's store, artifacts.
//
// Answers the core's CacheQueryActions (a hit, or a miss with the reason: which part of the key
// changed since the card's last entry) and keeps a card's fresh success as an entry. Damage is a
// miss, never a wrong result: an entry whose outputs are gone from the cache's artifact store is
// dropped, and the card runs. Entries are scoped (a tenant's, or "local"): a lookup sees only its
// own scope's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/artifacts/store.h"
#include "common/cache/result_cache.h"
#include "common/core/scheduler_core.h"

namespace hollerith {

enum class CacheMode : uint8_t {
  kOn,        // look up, keep fresh successes (the default)
  kRefresh,   // --no-cache: run everything, keep fresh successes (refreshes entries)
  kReadOnly,  // --cache read-only: look up, keep nothing
};
const char* CacheModeName(CacheMode mode);
// "on", "refresh" (also "off", what --no-cache means), "read-only".
bool ParseCacheMode(std::string_view text, CacheMode* mode);

// Who a job's entries belong to and how it uses the cache.
struct CacheScope {
  std::string scope;  // a tenant, or "local"
  std::string job_id;
  std::string job_name;
  CacheMode mode = CacheMode::kOn;
};

class CardCache {
 public:
  // `entries`: null when the cache is unavailable (`unavailable` says why: every lookup is a miss
  // saying so). `run_store`: where the job's cards publish and fetch files. `cache_store`: where
  // entries' files live; the same store for the coordinator (nothing is copied), a store of the
  // cache directory's own for a local run (files are copied in on Record and out on a hit, and
  // removed when no entry refers to them any more).
  CardCache(ResultCache* entries, std::string unavailable, ArtifactStore* run_store,
            ArtifactStore* cache_store);

  // The hit for `query`, or nullopt; `note` says which ("hit: job J", "miss: ...").
  std::optional<CachedCard> Lookup(const CacheScope& scope, const SchedulerCore& core,
                                   const CacheQueryAction& query, std::string* note);
  // After the core accepted `card`'s finish: keeps it if it is a fresh success of a cacheable
  // card. A failure to keep it is logged, never an error of the job.
  void Record(const CacheScope& scope, const SchedulerCore& core, CardRef card);

  ResultCache* entries() const { return entries_; }
  // Removes files of the cache's own store that no entry refers to (see the constructor).
  void DropFiles(const std::vector<std::string>& digests);

 private:
  ResultCache* entries_;
  std::string unavailable_;
  ArtifactStore* run_store_;
  ArtifactStore* cache_store_;
};

}  // namespace hollerith
