#include "common/cache/result_cache.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <system_error>

namespace hollerith {
namespace {

constexpr int64_t kSchemaVersion = 1;

// Rows are found by their rowid, which the memory index keeps: no index on disk, so that a new
// entry is appended, not inserted among random keys (a page rewritten per entry). (scope, key) is
// unique in the index; LoadIndex keeps the last row of a pair, should a file hold two.
// outputs and parts are stored as BLOBs of length-prefixed strings: "LEN:BYTES" for each name,
// then for each value, so any byte may appear in a path.
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS entries(
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  job TEXT NOT NULL,
  job_name TEXT NOT NULL,
  card_name TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  stdout BLOB NOT NULL,
  stdout_truncated INTEGER NOT NULL,
  outputs BLOB NOT NULL,
  parts BLOB NOT NULL,
  bytes INTEGER NOT NULL,
  created_us INTEGER NOT NULL,
  last_used_us INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', 1);
)";

// What Read takes, in this order: the row with its stdout, or with an empty one instead.
std::string SelectEntry(const std::string& stdout_column) {
  return "SELECT job, job_name, card_name, exit_code, " + stdout_column +
         ", stdout_truncated, outputs, parts, bytes, created_us, last_used_us FROM entries "
         "WHERE rowid = ?1";
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string Encode(const Pairs& pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    for (const std::string* s : {&name, &value}) {
      out += std::to_string(s->size());
      out += ':';
      out += *s;
    }
  }
  return out;
}

std::optional<Pairs> Decode(const std::string& text) {
  Pairs pairs;
  size_t at = 0;
  auto next = [&](std::string& s) {
    const size_t colon = text.find(':', at);
    if (colon == std::string::npos || colon == at || colon - at > 12) return false;
    size_t len = 0;
    for (size_t i = at; i < colon; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      len = len * 10 + static_cast<size_t>(text[i] - '0');
    }
    if (len > text.size() - colon - 1) return false;
    s = text.substr(colon + 1, len);
    at = colon + 1 + len;
    return true;
  };
  while (at < text.size()) {
    auto& [name, value] = pairs.emplace_back();
    if (!next(name) || !next(value)) return std::nullopt;
  }
  return pairs;
}

void BindText(sqlite3_stmt* stmt, int i, const std::string& s) {
  sqlite3_bind_text(stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

void BindBlob(sqlite3_stmt* stmt, int i, const std::string& s) {
  sqlite3_bind_blob(stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

std::string Column(sqlite3_stmt* stmt, int i) {
  const void* p = sqlite3_column_blob(stmt, i);
  return p ? std::string(static_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(stmt, i)))
           : std::string();
}

// Resets a cached statement (ending its read) and drops its bindings when it goes out of scope.
struct Used {
  sqlite3_stmt* stmt;
  ~Used() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

// Finalizes a one-off statement when it goes out of scope.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

std::vector<std::string> Distinct(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

Result<std::unique_ptr<ResultCache>> ResultCache::Open(const std::filesystem::path& path,
                                                       uint64_t max_bytes) {
  const std::string shown = path.empty() ? "(in memory)" : path.string();
  if (!path.empty() && path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return Status::Error(
          StatusCode::kDataLoss,
          "cannot create the directory of the result cache " + shown + ": " + ec.message());
    }
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.empty() ? ":memory:" : path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Error(StatusCode::kDataLoss,
                         "cannot open the result cache " + shown + ": " + why);
  }
  std::unique_ptr<ResultCache> cache(new ResultCache(db, shown, max_bytes));
  if (Status s = cache->Init(); !s.ok()) return s;
  return cache;
}

ResultCache::ResultCache(sqlite3* db, std::string path, uint64_t max_bytes)
    : db_(db), path_(std::move(path)), max_bytes_(max_bytes) {}

ResultCache::~ResultCache() {
  if (Status s = Flush(); !s.ok()) spdlog::warn("{}", s.message());
  for (sqlite3_stmt* stmt : {select_full_, select_brief_, upsert_, delete_, touch_, savepoint_,
                             release_, rollback_to_}) {
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db_);
}

Status ResultCache::Error(const std::string& what) const {
  return Status::Error(StatusCode::kDataLoss,
                       what + " (result cache " + path_ + ": " + sqlite3_errmsg(db_) + ")");
}

Status ResultCache::Exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Status::Error(StatusCode::kDataLoss, "result cache " + path_ + ": " + why);
  }
  return Status::Ok();
}

Status ResultCache::Init() {
  sqlite3_busy_timeout(db_, 1000);  // another process writing the same file
  for (const char* sql : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;"}) {
    if (Status s = Exec(sql); !s.ok()) return s;
  }
  {  // A damaged file must not pass for an empty cache.
    Statement check;
    if (sqlite3_prepare_v2(db_, "PRAGMA quick_check;", -1, &check.stmt, nullptr) != SQLITE_OK ||
        sqlite3_step(check.stmt) != SQLITE_ROW) {
      return Error("the result cache is unreadable (corrupt?)");
    }
    const std::string verdict = Column(check.stmt, 0);
    if (verdict != "ok") {
      return Status::Error(StatusCode::kDataLoss,
                           "the result cache " + path_ + " is corrupt: " + verdict);
    }
  }
  if (Status s = Exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER);");
      !s.ok()) {
    return s;
  }
  {
    Statement version;
    if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
                           &version.stmt, nullptr) != SQLITE_OK) {
      return Error("cannot read the schema version");
    }
    const int rc = sqlite3_step(version.stmt);
    if (rc == SQLITE_ROW && sqlite3_column_int64(version.stmt, 0) > kSchemaVersion) {
      return Status::FailedPrecondition("the result cache " + path_ + " has schema version " +
                                        std::to_string(sqlite3_column_int64(version.stmt, 0)) +
                                        ", newer than this hollerith's (" +
                                        std::to_string(kSchemaVersion) +
                                        "): use a newer hollerith, or remove the file");
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("cannot read the schema version");
  }
  if (Status s = Exec(kSchema); !s.ok()) return s;

  const std::pair<std::string, sqlite3_stmt**> statements[] = {
      {SelectEntry("stdout"), &select_full_},
      {SelectEntry("x''"), &select_brief_},
      {"INSERT INTO entries(scope, key, job, job_name, card_name, exit_code, stdout, "
       "stdout_truncated, outputs, parts, bytes, created_us, last_used_us) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
       &upsert_},
      {"DELETE FROM entries WHERE rowid = ?1", &delete_},
      {"UPDATE entries SET last_used_us = ?2 WHERE rowid = ?1", &touch_},
      // Each write of a batch, all or nothing (parsed once: a Put per card).
      {"SAVEPOINT write", &savepoint_},
      {"RELEASE write", &release_},
      {"ROLLBACK TO write", &rollback_to_},
  };
  for (const auto& [sql, stmt] : statements) {
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) !=
        SQLITE_OK) {
      return Error("cannot prepare the result cache's statements");
    }
  }
  return LoadIndex();
}

Status ResultCache::LoadIndex() {
  Statement rows;
  if (sqlite3_prepare_v2(db_,
                         "SELECT scope, key, job_name, card_name, bytes, last_used_us, outputs, "
                         "rowid, job, parts FROM entries ORDER BY last_used_us, rowid",
                         -1, &rows.stmt, nullptr) != SQLITE_OK) {
    return Error("cannot read the entries");
  }
  int rc;
  while ((rc = sqlite3_step(rows.stmt)) == SQLITE_ROW) {
    Indexed entry;
    entry.job_name = Column(rows.stmt, 2);
    entry.card_name = Column(rows.stmt, 3);
    entry.bytes = static_cast<uint64_t>(sqlite3_column_int64(rows.stmt, 4));
    entry.last_used_us = sqlite3_column_int64(rows.stmt, 5);
    const std::optional<Pairs> outputs = Decode(Column(rows.stmt, 6));
    if (!outputs) {
      return Status::Error(StatusCode::kDataLoss,
                           "the result cache " + path_ + " has an unreadable entry");
    }
    for (const auto& [file, digest] : *outputs) entry.digests.push_back(digest);
    entry.rowid = sqlite3_column_int64(rows.stmt, 7);
    entry.job = Column(rows.stmt, 8);
    const std::optional<Pairs> parts = Decode(Column(rows.stmt, 9));
    if (!parts) {
      return Status::Error(StatusCode::kDataLoss,
                           "the result cache " + path_ + " has an unreadable entry");
    }
    for (const auto& [name, digest] : *parts) entry.part_tags.push_back(PartTag(digest));
    const std::string scope = Column(rows.stmt, 0), key = Column(rows.stmt, 1);
    std::vector<std::string> unused;
    Unindex(scope, key, unused);  // an earlier row of the same pair (never written so)
    Index(scope, key, std::move(entry));
  }
  if (rc != SQLITE_DONE) return Error("cannot read the entries");
  return Status::Ok();
}

const ResultCache::Indexed* ResultCache::Find(const std::string& scope,
                                              const std::string& key) const {
  auto scope_it = index_.find(scope);
  if (scope_it == index_.end()) return nullptr;
  auto it = scope_it->second.find(key);
  return it == scope_it->second.end() ? nullptr : &it->second;
}

void ResultCache::Index(const std::string& scope, const std::string& key, Indexed entry) {
  entry.digests = Distinct(std::move(entry.digests));
  entry.touch = next_touch_++;
  for (const std::string& digest : entry.digests) ++refs_[digest];
  lru_[{entry.last_used_us, entry.touch}] = {scope, key};
  cards_[{scope, entry.job_name, entry.card_name}].insert(key);
  total_bytes_ += entry.bytes;
  ++entries_;
  index_[scope][key] = std::move(entry);
}

void ResultCache::Unindex(const std::string& scope, const std::string& key,
                          std::vector<std::string>& orphaned) {
  auto scope_it = index_.find(scope);
  if (scope_it == index_.end()) return;
  auto it = scope_it->second.find(key);
  if (it == scope_it->second.end()) return;
  const Indexed& entry = it->second;
  for (const std::string& digest : entry.digests) {
    if (auto ref = refs_.find(digest); ref != refs_.end() && --ref->second == 0) {
      refs_.erase(ref);
      orphaned.push_back(digest);
    }
  }
  lru_.erase({entry.last_used_us, entry.touch});
  if (auto card = cards_.find({scope, entry.job_name, entry.card_name}); card != cards_.end()) {
    card->second.erase(key);
    if (card->second.empty()) cards_.erase(card);
  }
  total_bytes_ -= entry.bytes;
  --entries_;
  scope_it->second.erase(it);
  if (scope_it->second.empty()) index_.erase(scope_it);
}

std::optional<CacheEntry> ResultCache::Read(const std::string& scope, const std::string& key,
                                            bool with_stdout) const {
  const Indexed* indexed = Find(scope, key);
  if (indexed == nullptr) return std::nullopt;
  Used use{with_stdout ? select_full_ : select_brief_};
  sqlite3_bind_int64(use.stmt, 1, indexed->rowid);
  const int rc = sqlite3_step(use.stmt);
  if (rc != SQLITE_ROW) {
    if (rc != SQLITE_DONE) spdlog::warn("{}", Error("cannot read entry " + key).message());
    return std::nullopt;
  }
  CacheEntry entry;
  entry.scope = scope;
  entry.key = key;
  entry.job = Column(use.stmt, 0);
  entry.job_name = Column(use.stmt, 1);
  entry.card_name = Column(use.stmt, 2);
  entry.exit_code = sqlite3_column_int(use.stmt, 3);
  entry.stdout_text = Column(use.stmt, 4);
  entry.stdout_truncated = sqlite3_column_int(use.stmt, 5) != 0;
  std::optional<Pairs> outputs = Decode(Column(use.stmt, 6));
  std::optional<Pairs> parts = Decode(Column(use.stmt, 7));
  if (!outputs || !parts) {
    spdlog::warn("the result cache {} has an unreadable entry {}", path_, key);
    return std::nullopt;
  }
  entry.outputs = std::move(*outputs);
  entry.parts = std::move(*parts);
  entry.bytes = static_cast<uint64_t>(sqlite3_column_int64(use.stmt, 8));
  entry.created_us = sqlite3_column_int64(use.stmt, 9);
  entry.last_used_us = sqlite3_column_int64(use.stmt, 10);
  return entry;
}

std::optional<CacheEntry> ResultCache::Lookup(const std::string& scope, const std::string& key,
                                              int64_t now_us) {
  if (Find(scope, key) == nullptr) {
    ++misses_;
    return std::nullopt;
  }
  std::optional<CacheEntry> entry = Read(scope, key, /*with_stdout=*/true);
  if (!entry) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  if (Status s = BeginBatch(); !s.ok()) {
    spdlog::warn("{}", s.message());
    return entry;
  }
  Used use{touch_};
  sqlite3_bind_int64(use.stmt, 1, Find(scope, key)->rowid);
  sqlite3_bind_int64(use.stmt, 2, now_us);
  if (sqlite3_step(use.stmt) != SQLITE_DONE) {
    spdlog::warn("{}", Error("cannot record the use of entry " + key).message());
    return entry;
  }
  Indexed& indexed = index_[scope][key];
  lru_.erase({indexed.last_used_us, indexed.touch});
  indexed.last_used_us = entry->last_used_us = now_us;
  indexed.touch = next_touch_++;
  lru_[{indexed.last_used_us, indexed.touch}] = {scope, key};
  return entry;
}

std::optional<CacheEntry> ResultCache::Peek(const std::string& scope,
                                            const std::string& key) const {
  if (Find(scope, key) == nullptr) return std::nullopt;
  return Read(scope, key, /*with_stdout=*/true);
}

Status ResultCache::BeginBatch() {
  if (batch_open_) return Status::Ok();
  if (Status s = Exec("BEGIN IMMEDIATE;"); !s.ok()) return s;
  batch_open_ = true;
  return Status::Ok();
}

Status ResultCache::Flush() {
  if (!batch_open_) return Status::Ok();
  batch_open_ = false;
  Status s = Exec("COMMIT;");
  if (s.ok()) return s;
  if (!sqlite3_get_autocommit(db_)) Exec("ROLLBACK;").IgnoreError();
  // What was written since the last Flush is gone: the index follows the file again.
  index_.clear();
  lru_.clear();
  cards_.clear();
  refs_.clear();
  total_bytes_ = entries_ = 0;
  if (Status loaded = LoadIndex(); !loaded.ok()) spdlog::warn("{}", loaded.message());
  return s;
}

Status ResultCache::Write(const CacheEntry* put, const std::vector<ScopeKey>& deletes,
                          int64_t* rowid) {
  if (Status s = BeginBatch(); !s.ok()) return s;
  auto step = [this](sqlite3_stmt* stmt, const char* what) {
    Used use{stmt};
    return sqlite3_step(stmt) == SQLITE_DONE ? Status::Ok() : Error(what);
  };
  if (Status s = step(savepoint_, "cannot begin a write"); !s.ok()) return s;
  Status s;
  for (size_t i = 0; s.ok() && i < deletes.size(); ++i) {
    Used use{delete_};
    sqlite3_bind_int64(use.stmt, 1, Find(deletes[i].first, deletes[i].second)->rowid);
    if (sqlite3_step(use.stmt) != SQLITE_DONE)
      s = Error("cannot remove entry " + deletes[i].second);
  }
  if (s.ok() && put != nullptr) {
    const std::string outputs = Encode(put->outputs), parts = Encode(put->parts);
    Used use{upsert_};
    BindText(use.stmt, 1, put->scope);
    BindText(use.stmt, 2, put->key);
    BindText(use.stmt, 3, put->job);
    BindText(use.stmt, 4, put->job_name);
    BindText(use.stmt, 5, put->card_name);
    sqlite3_bind_int(use.stmt, 6, put->exit_code);
    BindBlob(use.stmt, 7, put->stdout_text);
    sqlite3_bind_int(use.stmt, 8, put->stdout_truncated ? 1 : 0);
    BindBlob(use.stmt, 9, outputs);
    BindBlob(use.stmt, 10, parts);
    sqlite3_bind_int64(use.stmt, 11, static_cast<sqlite3_int64>(put->bytes));
    sqlite3_bind_int64(use.stmt, 12, put->created_us);
    sqlite3_bind_int64(use.stmt, 13, put->last_used_us);
    if (sqlite3_step(use.stmt) != SQLITE_DONE) s = Error("cannot write entry " + put->key);
    if (s.ok() && rowid) *rowid = sqlite3_last_insert_rowid(db_);
  }
  if (s.ok()) s = step(release_, "cannot end a write");
  if (!s.ok()) {
    // Undoes this write alone; a failed statement may have rolled the whole batch back already.
    if (sqlite3_get_autocommit(db_)) {
      batch_open_ = false;
    } else {
      step(rollback_to_, "cannot undo a write").IgnoreError();
      step(release_, "cannot end a write").IgnoreError();
    }
  }
  return s;
}

Result<std::vector<std::string>> ResultCache::Put(CacheEntry entry) {
  if (entry.key.empty()) return Status::InvalidArgument("a result cache entry needs a key");
  if (entry.last_used_us == 0) entry.last_used_us = entry.created_us;
  if (max_bytes_ > 0 && entry.bytes > max_bytes_) {
    return Status::Error(StatusCode::kResourceExhausted,
                         "the result of " + entry.card_name + " pins " +
                             std::to_string(entry.bytes) + " bytes, more than the result cache's " +
                             "bound of " + std::to_string(max_bytes_) + " bytes: not kept");
  }
  // Least recently used first, never the entry being put, until what remains fits.
  const Indexed* old = Find(entry.scope, entry.key);
  uint64_t total = total_bytes_ - (old ? old->bytes : 0) + entry.bytes;
  std::vector<ScopeKey> victims;
  for (auto it = lru_.begin(); max_bytes_ > 0 && total > max_bytes_ && it != lru_.end(); ++it) {
    const auto& [scope, key] = it->second;
    if (scope == entry.scope && key == entry.key) continue;
    total -= Find(scope, key)->bytes;
    victims.push_back(it->second);
  }
  // The old row of the same key goes too (deleted first: nothing on disk keeps keys unique).
  std::vector<ScopeKey> deletes = victims;
  if (old) deletes.emplace_back(entry.scope, entry.key);
  int64_t rowid = 0;
  if (Status s = Write(&entry, deletes, &rowid); !s.ok()) return s;

  std::vector<std::string> orphaned;
  Unindex(entry.scope, entry.key, orphaned);
  for (const auto& [scope, key] : victims) {
    spdlog::debug("result cache {}: evicted {}/{} ({} bytes)", path_, scope, key,
                  Find(scope, key)->bytes);
    Unindex(scope, key, orphaned);
  }
  evictions_ += victims.size();
  Indexed indexed{entry.job_name, entry.card_name, entry.bytes, entry.last_used_us, 0, {},
                  rowid,          entry.job,       {}};
  for (const auto& [name, digest] : entry.parts) indexed.part_tags.push_back(PartTag(digest));
  for (const auto& [file, digest] : entry.outputs) indexed.digests.push_back(digest);
  Index(entry.scope, entry.key, std::move(indexed));
  // A digest the new entry refers to too is not an orphan.
  std::erase_if(orphaned, [&](const std::string& d) { return refs_.contains(d); });
  return Distinct(std::move(orphaned));
}

const std::string* ResultCache::LatestKey(const std::string& scope, const std::string& job_name,
                                          const std::string& card_name) const {
  auto card = cards_.find({scope, job_name, card_name});
  if (card == cards_.end()) return nullptr;
  const std::string* latest = nullptr;
  Lru latest_use{};
  for (const std::string& key : card->second) {
    const Indexed* entry = Find(scope, key);
    if (Lru use{entry->last_used_us, entry->touch}; latest == nullptr || use > latest_use) {
      latest = &key;
      latest_use = use;
    }
  }
  return latest;
}

std::optional<CacheEntry> ResultCache::LastFor(const std::string& scope,
                                               const std::string& job_name,
                                               const std::string& card_name) const {
  const std::string* latest = LatestKey(scope, job_name, card_name);
  if (latest == nullptr) return std::nullopt;
  return Read(scope, *latest, /*with_stdout=*/false);
}

std::optional<ResultCache::CardHistory> ResultCache::LastHistory(
    const std::string& scope, const std::string& job_name, const std::string& card_name) const {
  const std::string* latest = LatestKey(scope, job_name, card_name);
  if (latest == nullptr) return std::nullopt;
  const Indexed* entry = Find(scope, *latest);
  return CardHistory{entry->job, entry->part_tags};
}

uint32_t ResultCache::PartTag(std::string_view hex) {
  if (hex.size() < 8) return 0;
  return static_cast<uint32_t>(std::strtoul(std::string(hex.substr(0, 8)).c_str(), nullptr, 16));
}

std::vector<CacheEntry> ResultCache::List(const std::string& scope) const {
  std::vector<CacheEntry> entries;
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    if (!scope.empty() && it->second.first != scope) continue;
    if (auto entry = Read(it->second.first, it->second.second, /*with_stdout=*/false)) {
      entries.push_back(std::move(*entry));
    }
  }
  return entries;
}

Result<size_t> ResultCache::Remove(const std::string& scope, const std::string& key,
                                   std::vector<std::string>* orphaned) {
  if (orphaned) orphaned->clear();
  if (Find(scope, key) == nullptr) return size_t{0};
  if (Status s = Write(nullptr, {{scope, key}}); !s.ok()) return s;
  if (Status s = Flush(); !s.ok()) return s;
  std::vector<std::string> gone;
  Unindex(scope, key, gone);
  if (orphaned) *orphaned = Distinct(std::move(gone));
  return size_t{1};
}

Result<size_t> ResultCache::Clear(const std::string& scope, std::vector<std::string>* orphaned) {
  if (orphaned) orphaned->clear();
  std::vector<ScopeKey> victims;
  for (const auto& [entry_scope, entries] : index_) {
    if (!scope.empty() && entry_scope != scope) continue;
    for (const auto& [key, entry] : entries) victims.emplace_back(entry_scope, key);
  }
  if (victims.empty()) return size_t{0};
  if (Status s = Write(nullptr, victims); !s.ok()) return s;
  if (Status s = Flush(); !s.ok()) return s;
  std::vector<std::string> gone;
  for (const auto& [entry_scope, key] : victims) Unindex(entry_scope, key, gone);
  if (orphaned) *orphaned = Distinct(std::move(gone));
  return victims.size();
}

CacheStats ResultCache::stats() const {
  return {entries_, total_bytes_, hits_, misses_, evictions_};
}

}  // namespace hollerith
