// Family common/cache/: owns the card result cache (the durable store of results, keyed by a
// card's cache key). May use: base, SQLite. Must not know jobs, the core, the runner or the
// artifact store (outputs are named by their digests only; the caller keeps the blobs).
//
// The durable store of the content-addressed result cache: a card whose cache key (a sha256 hex
// digest computed elsewhere) matches an entry is skipped and the entry's recorded result reused.
// One SQLite database in WAL mode with synchronous=NORMAL: an entry committed survives a kill -9
// of the process. Every entry's (scope, key, bytes, last use, card identity, output digests) is
// also held in memory, loaded at Open, so that a miss, a LastFor without an entry and eviction
// decisions never touch SQLite; the memory index changes only after SQLite committed the change,
// so it always says what the file says.
//
// Single-threaded: the owner calls it on one thread. Meant for one process per file; another
// process's writes to the same file are not seen (the index is loaded at Open), and an entry it
// removed reads as a miss.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hollerith {

struct CacheEntry {
  std::string scope;     // whose entry: a tenant's name in the coordinator, "local" for run --local
  std::string key;       // the card's cache key (64 lower-case hex)
  std::string job;       // id of the job whose run produced it (e.g. "17"; "" when unknown)
  std::string job_name;  // that job's name (`name:` of its spec)
  std::string card_name;  // "STACK.CARD"
  int exit_code = 0;
  std::string stdout_text;
  bool stdout_truncated = false;
  std::vector<std::pair<std::string, std::string>> outputs;  // (workspace path, sha256 hex)
  // name -> digest of each part of the key ("command", "env", "limits", "inputs", "outputs",
  // "earlier cards", "cache_version"): says which part changed when a card misses.
  std::vector<std::pair<std::string, std::string>> parts;
  uint64_t bytes = 0;  // what the entry pins: stdout plus its outputs' sizes (given by the caller)
  int64_t created_us = 0;    // wall micros
  int64_t last_used_us = 0;  // wall micros, updated by Lookup hits
};

// entries and bytes: what the cache holds now. hits, misses, evictions: since Open.
struct CacheStats {
  uint64_t entries = 0, bytes = 0, hits = 0, misses = 0, evictions = 0;
};

class ResultCache {
 public:
  // Opens (creating it and its directory) the database at `path`, or an in-memory one when `path`
  // is empty. `max_bytes` bounds the sum of the entries' bytes (0: no bound); a bound smaller than
  // what the file holds takes effect at the next Put. A file that does not open, is corrupt
  // (PRAGMA quick_check) or has a newer schema is an error naming the file: the caller then runs
  // without a cache and warns.
  static Result<std::unique_ptr<ResultCache>> Open(const std::filesystem::path& path,
                                                   uint64_t max_bytes);
  ~ResultCache();
  ResultCache(const ResultCache&) = delete;
  ResultCache& operator=(const ResultCache&) = delete;

  // The entry for (scope, key), or nullopt. A hit reads the row, sets its last_used_us = now_us
  // (persisted; when that write fails the hit still counts, with the old time) and counts a hit.
  // A miss counts a miss and costs a hash-map lookup. A row that cannot be read is a miss.
  std::optional<CacheEntry> Lookup(const std::string& scope, const std::string& key,
                                   int64_t now_us);
  // Looks without touching (no LRU update, no hit or miss counted): for `cache show`.
  std::optional<CacheEntry> Peek(const std::string& scope, const std::string& key) const;
  // Inserts, or replaces the entry of the same scope and key. Written at once, committed with
  // the others at the next Flush (a group commit: one transaction for many cards, as the
  // coordinator's journal does); a crash before it loses the entry, which is only a later miss. A
  // last_used_us of 0 is taken as created_us. Then evicts the least recently used entries (of any
  // scope) until the bound holds, never the entry just put. An entry bigger than the bound alone
  // is refused (kResourceExhausted) and nothing changes. Returns the digests (sorted, distinct) of
  // outputs of the replaced and evicted entries that no entry refers to any more: the caller may
  // delete those blobs. A failed write is an error and changes nothing.
  Result<std::vector<std::string>> Put(CacheEntry entry);
  // The most recently used entry of (scope, job_name, card_name), any key: what a miss is compared
  // with to say which part of the key changed (stdout_text left empty). Touches nothing.
  std::optional<CacheEntry> LastFor(const std::string& scope, const std::string& job_name,
                                    const std::string& card_name) const;
  // What a miss is compared with, from memory alone (no read of the file): the job of the most
  // recently used entry of (scope, job_name, card_name), and a tag of each of its key's parts
  // (the first 32 bits of its digest, in the order of CacheEntry::parts).
  struct CardHistory {
    std::string job;
    std::vector<uint32_t> part_tags;
  };
  std::optional<CardHistory> LastHistory(const std::string& scope, const std::string& job_name,
                                         const std::string& card_name) const;
  // The tag of a part digest given in hex (its first 8 hex digits; 0 if it has fewer).
  static uint32_t PartTag(std::string_view hex);
  // The entries of `scope` ("": every scope), most recently used first, with stdout_text empty
  // (stdout_truncated still says whether the run's output was cut).
  std::vector<CacheEntry> List(const std::string& scope) const;
  // Removes the entry (scope, key) / every entry of `scope` ("": all); returns how many were
  // removed. `orphaned`, when given, receives the digests (sorted, distinct) no remaining entry
  // refers to any more, like Put's. A failed write is an error and changes nothing.
  Result<size_t> Remove(const std::string& scope, const std::string& key,
                        std::vector<std::string>* orphaned = nullptr);
  Result<size_t> Clear(const std::string& scope, std::vector<std::string>* orphaned = nullptr);
  // Commits what Put and Lookup wrote since the last Flush (Remove and Clear commit at once, as
  // does the destructor). A failed commit loses those writes: the memory index is read again
  // from the file, so it holds what the file does.
  Status Flush();
  bool has_pending() const { return batch_open_; }

  CacheStats stats() const;
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  // What the memory index holds of an entry.
  struct Indexed {
    std::string job_name, card_name;
    uint64_t bytes = 0;
    int64_t last_used_us = 0;
    uint64_t touch = 0;                // breaks ties of last_used_us: later touches are newer
    std::vector<std::string> digests;  // of its outputs, distinct
    int64_t rowid = 0;                 // its row in the file
    std::string job;
    std::vector<uint32_t> part_tags;  // PartTag of each of its key's parts
  };
  // The most recently used entry of (scope, job_name, card_name) in the index, or null.
  const std::string* LatestKey(const std::string& scope, const std::string& job_name,
                               const std::string& card_name) const;
  using Lru = std::pair<int64_t, uint64_t>;  // (last_used_us, touch): smallest is evicted first
  using ScopeKey = std::pair<std::string, std::string>;
  using Card = std::tuple<std::string, std::string, std::string>;  // scope, job_name, card_name

  ResultCache(sqlite3* db, std::string path, uint64_t max_bytes);
  Status Init();
  Status Exec(const char* sql) const;
  Status Error(const std::string& what) const;
  Status LoadIndex();
  const Indexed* Find(const std::string& scope, const std::string& key) const;
  std::optional<CacheEntry> Read(const std::string& scope, const std::string& key,
                                 bool with_stdout) const;
  // Deletes the rows of `deletes` (indexed still) and writes `put` (when given; its row's id
  // into `rowid`), all or nothing, in the open batch (Flush commits it).
  Status Write(const CacheEntry* put, const std::vector<ScopeKey>& deletes,
               int64_t* rowid = nullptr);
  Status BeginBatch();
  // The memory index's side of a committed change.
  void Index(const std::string& scope, const std::string& key, Indexed entry);
  // Drops (scope, key) from the index; its digests whose last reference it was go to `orphaned`.
  void Unindex(const std::string& scope, const std::string& key,
               std::vector<std::string>& orphaned);

  sqlite3* db_;
  std::string path_;  // as named in errors
  uint64_t max_bytes_;
  sqlite3_stmt* select_full_ = nullptr;
  sqlite3_stmt* select_brief_ = nullptr;  // without stdout
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  sqlite3_stmt* touch_ = nullptr;
  sqlite3_stmt* savepoint_ = nullptr;
  sqlite3_stmt* release_ = nullptr;
  sqlite3_stmt* rollback_to_ = nullptr;

  std::unordered_map<std::string, std::unordered_map<std::string, Indexed>> index_;  // scope, key
  std::map<Lru, ScopeKey> lru_;
  std::map<Card, std::set<std::string>> cards_;     // -> keys
  std::unordered_map<std::string, uint64_t> refs_;  // output digest -> entries referring to it
  uint64_t next_touch_ = 1;
  uint64_t total_bytes_ = 0;
  uint64_t entries_ = 0;
  uint64_t hits_ = 0, misses_ = 0, evictions_ = 0;
  bool batch_open_ = false;  // a transaction holds writes that Flush will commit
};

}  // namespace hollerith
