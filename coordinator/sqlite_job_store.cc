#include "coordinator/sqlite_job_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "coordinator/wal_checkpointer.h"

namespace hollerith::coordinator {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT UNIQUE NOT NULL,
  idempotency_key TEXT NOT NULL,
  spec_name TEXT NOT NULL,
  spec_text BLOB NOT NULL,
  submitted_wall_us INTEGER NOT NULL,
  tenant TEXT NOT NULL DEFAULT '',
  cache_mode TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS journal(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  chunk BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS journal_by_job ON journal(job_id, seq);
)";

// Finalizes a statement when it goes out of scope.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

class SqliteBackend : public StoreBackend {
 public:
  SqliteBackend(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteBackend() override {
    checkpointer_.reset();  // unhooks db_ and closes its own connection first
    for (sqlite3_stmt* stmt :
         {insert_job_, insert_chunk_, set_lamport_, delete_job_, delete_journal_}) {
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db_);
  }
  Status Open(SyncMode sync);
  Status Write(const std::deque<StoreBatch>& work) override;
  Result<RecoveredState> Load() override;

 private:
  Status Exec(const char* sql);
  Status Prepare();
  // Adds text column `column` (default '') to a store written before it existed.
  Status AddColumn(const std::string& column);
  Status Error(const std::string& what) const;
  Status WriteBatch(const StoreBatch& batch);

  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* insert_job_ = nullptr;
  sqlite3_stmt* insert_chunk_ = nullptr;
  sqlite3_stmt* set_lamport_ = nullptr;
  sqlite3_stmt* delete_job_ = nullptr;
  sqlite3_stmt* delete_journal_ = nullptr;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // no commit waits for a checkpoint
};

Status SqliteBackend::Open(SyncMode sync) {
  sqlite3_busy_timeout(db_, 2000);
  const char* sync_sql =
      sync == SyncMode::kFull ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  for (const char* sql : {"PRAGMA journal_mode=WAL;", sync_sql, "PRAGMA foreign_keys=ON;"}) {
    if (Status s = Exec(sql); !s.ok()) return s;
  }
  // A damaged file must not pass for an empty store.
  {
    Statement check;
    if (sqlite3_prepare_v2(db_, "PRAGMA quick_check;", -1, &check.stmt, nullptr) != SQLITE_OK ||
        sqlite3_step(check.stmt) != SQLITE_ROW) {
      return Error("the job store is unreadable (corrupt?)");
    }
    const auto* verdict = reinterpret_cast<const char*>(sqlite3_column_text(check.stmt, 0));
    if (verdict == nullptr || std::string(verdict) != "ok") {
      return Status::Error(StatusCode::kDataLoss,
                           "the job store " + path_ + " is corrupt: " + (verdict ? verdict : "?"));
    }
  }
  if (Status s = Exec(kSchema); !s.ok()) return s;
  auto checkpointer = WalCheckpointer::Start(path_, db_);
  if (!checkpointer.ok()) return checkpointer.status();
  checkpointer_ = std::move(checkpointer).value();
  // Stores written before tenants existed: their jobs belong to the default tenant (''); before
  // the result cache: their jobs use it as the default does ('').
  for (const char* column : {"tenant", "cache_mode"}) {
    if (Status s = AddColumn(column); !s.ok()) return s;
  }
  return Prepare();
}

Status SqliteBackend::AddColumn(const std::string& column) {
  Statement columns;
  if (sqlite3_prepare_v2(db_, "SELECT 1 FROM pragma_table_info('jobs') WHERE name = ?", -1,
                         &columns.stmt, nullptr) != SQLITE_OK) {
    return Error("cannot read the job store's schema");
  }
  sqlite3_bind_text(columns.stmt, 1, column.data(), static_cast<int>(column.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(columns.stmt);
  if (rc == SQLITE_ROW) return Status::Ok();
  if (rc != SQLITE_DONE) return Error("cannot read the job store's schema");
  const std::string sql = "ALTER TABLE jobs ADD COLUMN " + column + " TEXT NOT NULL DEFAULT '';";
  return Exec(sql.c_str());
}

Status SqliteBackend::Error(const std::string& what) const {
  return Status::Error(StatusCode::kDataLoss,
                       what + " (" + path_ + ": " + sqlite3_errmsg(db_) + ")");
}

Status SqliteBackend::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "?";
    sqlite3_free(err);
    return Status::Error(StatusCode::kDataLoss, "job store " + path_ + ": " + why);
  }
  return Status::Ok();
}

Status SqliteBackend::Prepare() {
  const std::pair<const char*, sqlite3_stmt**> statements[] = {
      {"INSERT INTO jobs(job_id, idempotency_key, spec_name, spec_text, submitted_wall_us, "
       "tenant, cache_mode) VALUES(?, ?, ?, ?, ?, ?, ?)",
       &insert_job_},
      {"INSERT INTO journal(job_id, chunk) VALUES(?, ?)", &insert_chunk_},
      {"INSERT INTO meta(key, value) VALUES('lamport_high', ?) "
       "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
       &set_lamport_},
      {"DELETE FROM jobs WHERE job_id = ?", &delete_job_},
      {"DELETE FROM journal WHERE job_id = ?", &delete_journal_},
  };
  for (const auto& [sql, stmt] : statements) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK) {
      return Error("cannot prepare the job store's statements");
    }
  }
  return Status::Ok();
}

Status SqliteBackend::WriteBatch(const StoreBatch& batch) {
  for (const auto& [job_id, blob] : batch.chunks) {
    sqlite3_reset(insert_chunk_);
    sqlite3_bind_text(insert_chunk_, 1, job_id.data(), static_cast<int>(job_id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_blob(insert_chunk_, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
    if (sqlite3_step(insert_chunk_) != SQLITE_DONE) return Error("cannot write the journal");
  }
  if (batch.job) {
    const StoredJob& job = *batch.job;
    sqlite3_reset(insert_job_);
    sqlite3_bind_text(insert_job_, 1, job.job_id.data(), static_cast<int>(job.job_id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(insert_job_, 2, job.idempotency_key.data(),
                      static_cast<int>(job.idempotency_key.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_job_, 3, job.spec_name.data(), static_cast<int>(job.spec_name.size()),
                      SQLITE_STATIC);
    sqlite3_bind_blob(insert_job_, 4, job.spec_text.data(), static_cast<int>(job.spec_text.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(insert_job_, 5, job.submitted_wall_us);
    sqlite3_bind_text(insert_job_, 6, job.tenant.data(), static_cast<int>(job.tenant.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(insert_job_, 7, job.cache_mode.data(),
                      static_cast<int>(job.cache_mode.size()), SQLITE_STATIC);
    if (sqlite3_step(insert_job_) != SQLITE_DONE) return Error("cannot record job " + job.job_id);
  }
  if (batch.deleted) {
    for (sqlite3_stmt* stmt : {delete_journal_, delete_job_}) {
      sqlite3_reset(stmt);
      sqlite3_bind_text(stmt, 1, batch.deleted->data(), static_cast<int>(batch.deleted->size()),
                        SQLITE_STATIC);
      if (sqlite3_step(stmt) != SQLITE_DONE) return Error("cannot remove job " + *batch.deleted);
    }
  }
  return Status::Ok();
}

Status SqliteBackend::Write(const std::deque<StoreBatch>& work) {
  if (Status s = Exec("BEGIN IMMEDIATE;"); !s.ok()) return s;
  uint64_t lamport_high = 0;
  Status s;
  for (const StoreBatch& b : work) {
    lamport_high = std::max(lamport_high, b.lamport_high);
    if (s = WriteBatch(b); !s.ok()) break;
  }
  if (s.ok() && lamport_high > 0) {
    sqlite3_reset(set_lamport_);
    sqlite3_bind_int64(set_lamport_, 1, static_cast<sqlite3_int64>(lamport_high));
    if (sqlite3_step(set_lamport_) != SQLITE_DONE) s = Error("cannot write the Lamport mark");
  }
  if (s.ok()) s = Exec("COMMIT;");
  if (!s.ok()) Exec("ROLLBACK;").IgnoreError();  // the error that matters is `s`
  return s;
}

Result<RecoveredState> SqliteBackend::Load() {
  RecoveredState state;
  std::map<std::string, size_t> index;
  {
    Statement jobs;
    if (sqlite3_prepare_v2(db_,
                           "SELECT job_id, idempotency_key, spec_name, spec_text, "
                           "submitted_wall_us, tenant, cache_mode FROM jobs ORDER BY seq",
                           -1, &jobs.stmt, nullptr) != SQLITE_OK) {
      return Error("cannot read the jobs");
    }
    int rc;
    while ((rc = sqlite3_step(jobs.stmt)) == SQLITE_ROW) {
      auto text = [&](int col) {
        const void* p = sqlite3_column_blob(jobs.stmt, col);
        return std::string(static_cast<const char*>(p ? p : ""),
                           static_cast<size_t>(sqlite3_column_bytes(jobs.stmt, col)));
      };
      RecoveredJob job;
      job.job.job_id = text(0);
      job.job.idempotency_key = text(1);
      job.job.spec_name = text(2);
      job.job.spec_text = text(3);
      job.job.submitted_wall_us = sqlite3_column_int64(jobs.stmt, 4);
      job.job.tenant = text(5);
      job.job.cache_mode = text(6);
      index[job.job.job_id] = state.jobs.size();
      state.jobs.push_back(std::move(job));
    }
    if (rc != SQLITE_DONE) return Error("cannot read the jobs");
  }
  {
    Statement journal;
    if (sqlite3_prepare_v2(db_, "SELECT job_id, chunk FROM journal ORDER BY seq", -1, &journal.stmt,
                           nullptr) != SQLITE_OK) {
      return Error("cannot read the journal");
    }
    int rc;
    while ((rc = sqlite3_step(journal.stmt)) == SQLITE_ROW) {
      const auto* id = reinterpret_cast<const char*>(sqlite3_column_text(journal.stmt, 0));
      auto it = index.find(id ? id : "");
      if (it == index.end()) {
        return Status::Error(StatusCode::kDataLoss,
                             "the job store " + path_ + " has a journal row for an unknown job");
      }
      if (!AppendChunk(sqlite3_column_blob(journal.stmt, 1),
                       static_cast<size_t>(sqlite3_column_bytes(journal.stmt, 1)),
                       state.jobs[it->second])) {
        return Status::Error(StatusCode::kDataLoss,
                             "the job store " + path_ + " has an unreadable journal row");
      }
    }
    if (rc != SQLITE_DONE) return Error("cannot read the journal");
  }
  {
    Statement meta;
    if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key = 'lamport_high'", -1, &meta.stmt,
                           nullptr) == SQLITE_OK &&
        sqlite3_step(meta.stmt) == SQLITE_ROW) {
      state.lamport_high = static_cast<uint64_t>(sqlite3_column_int64(meta.stmt, 0));
    }
  }
  return state;
}

}  // namespace

Result<std::unique_ptr<GroupCommitStore>> OpenSqliteStore(const std::string& path, SyncMode sync) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Error(StatusCode::kDataLoss, "cannot open the job store " + path + ": " + why);
  }
  auto backend = std::make_unique<SqliteBackend>(db, path);
  if (Status s = backend->Open(sync); !s.ok()) return s;
  return std::make_unique<GroupCommitStore>(std::move(backend));
}

}  // namespace hollerith::coordinator
