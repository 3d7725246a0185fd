#include "coordinator/postgres_job_store.h"

#include <endian.h>
#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <map>
#include <random>
#include <thread>
#include <utility>
#include <vector>

namespace hollerith::coordinator {
namespace {

// Serializes the schema's migrations between coordinators starting together on one database.
constexpr int64_t kMigrationLock = 0x486f6c6c65726974;  // "Holllerit"

// Migration N (1-based) brings a database at schema N-1 to schema N. Append only: a released
// migration is never edited.
constexpr const char* kMigrations[] = {
    R"(
CREATE TABLE jobs(
  seq BIGSERIAL PRIMARY KEY,
  job_id TEXT UNIQUE NOT NULL,
  idempotency_key TEXT NOT NULL,
  spec_name TEXT NOT NULL,
  spec_text BYTEA NOT NULL,
  submitted_wall_us BIGINT NOT NULL,
  tenant TEXT NOT NULL DEFAULT '',
  cache_mode TEXT NOT NULL DEFAULT '');
CREATE TABLE journal(
  seq BIGSERIAL PRIMARY KEY,
  job_id TEXT NOT NULL,
  chunk BYTEA NOT NULL);
CREATE INDEX journal_by_job ON journal(job_id, seq);
-- The Lamport high-water mark, and which writer's batch was committed last (a commit whose
-- answer was lost with the connection is looked up there before it is written again).
CREATE TABLE clock(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  lamport_high BIGINT NOT NULL,
  last_writer TEXT NOT NULL,
  last_batch BIGINT NOT NULL);
INSERT INTO clock VALUES (1, 0, '', 0);
)",
};
static_assert(std::size(kMigrations) == kPostgresSchemaVersion);

// Clears a result when it goes out of scope.
struct PgResult {
  PGresult* res = nullptr;
  explicit PgResult(PGresult* r) : res(r) {}
  ~PgResult() { PQclear(res); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ExecStatusType status() const { return PQresultStatus(res); }
};

int64_t BinaryInt64(const PGresult* res, int row, int col) {
  uint64_t be = 0;
  if (PQgetlength(res, row, col) == 8) std::memcpy(&be, PQgetvalue(res, row, col), 8);
  return static_cast<int64_t>(be64toh(be));
}

std::string BinaryText(const PGresult* res, int row, int col) {
  return std::string(PQgetvalue(res, row, col), static_cast<size_t>(PQgetlength(res, row, col)));
}

// Errors that another try cannot fix: the server answered and said no.
bool Fatal(const std::string& why) {
  for (const char* word : {"authentication", "password", "does not exist", "permission denied",
                           "certificate", "SSL", "invalid", "unsupported"}) {
    if (why.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string Trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class PostgresBackend : public StoreBackend {
 public:
  explicit PostgresBackend(PostgresOptions options)
      : options_(std::move(options)), shown_(RedactedUri(options_.uri)) {
    std::random_device rd;
    writer_id_ = std::to_string(rd()) + "-" + std::to_string(rd());
  }
  ~PostgresBackend() override { PQfinish(conn_); }

  Status Open();
  Status Write(const std::deque<StoreBatch>& work) override;
  Result<RecoveredState> Load() override;

 private:
  // One connection attempt; the error names the server, never the password.
  Status Connect();
  // Reconnects a connection the server or the network broke (and prepares the statements).
  Status EnsureConnected();
  Status Prepare();
  Status Migrate();
  Status Exec(const char* sql, const char* what);
  Status Error(const std::string& what) const;
  // A parameter of a prepared statement: text, or bytes (BYTEA).
  struct Param {
    const std::string& value;
    bool bytes = false;
  };
  Status Run(const char* statement, std::initializer_list<Param> params, const char* what);

  PostgresOptions options_;
  std::string shown_;  // the URI as logs may show it
  std::string writer_id_;
  PGconn* conn_ = nullptr;
  bool outcome_unknown_ = false;  // the last COMMIT's answer was lost with the connection
};

Status PostgresBackend::Error(const std::string& what) const {
  return Status::Error(StatusCode::kUnavailable, what + " (job store " + shown_ + ": " +
                                                     Trimmed(PQerrorMessage(conn_)) + ")");
}

Status PostgresBackend::Connect() {
  PQfinish(conn_);
  std::vector<const char*> keys{"dbname", "application_name", "connect_timeout"};
  std::vector<const char*> values{options_.uri.c_str(), "hollerith-coordinator", "10"};
  if (!options_.passfile.empty()) {
    keys.push_back("passfile");
    values.push_back(options_.passfile.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
  const std::string why = conn_ ? Trimmed(PQerrorMessage(conn_)) : "out of memory";
  return Status::Error(Fatal(why) ? StatusCode::kFailedPrecondition : StatusCode::kUnavailable,
                       "cannot connect to the job store's database " + shown_ + ": " + why);
}

Status PostgresBackend::Open() {
  const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    Status s = Connect();
    if (s.ok()) break;
    if (s.code() != StatusCode::kUnavailable) return s;
    const auto now = std::chrono::steady_clock::now();
    if (now + backoff > deadline) {
      return Status::Error(StatusCode::kUnavailable,
                           s.message() + " (gave up after " +
                               std::to_string(options_.connect_timeout.count() / 1000) + " s)");
    }
    spdlog::warn("{}; trying again in {} ms", s.message(), backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  if (Status s = Migrate(); !s.ok()) return s;
  return Prepare();
}

Status PostgresBackend::Exec(const char* sql, const char* what) {
  PgResult r(PQexec(conn_, sql));
  if (r.status() != PGRES_COMMAND_OK && r.status() != PGRES_TUPLES_OK) return Error(what);
  return Status::Ok();
}

Status PostgresBackend::Migrate() {
  if (Status s = Exec("BEGIN", "cannot begin the schema's migration"); !s.ok()) return s;
  auto fail = [&](Status s) {
    Exec("ROLLBACK", "").IgnoreError();  // the error that matters is `s`
    return s;
  };
  const std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")";
  if (Status s = Exec(lock.c_str(), "cannot lock the schema"); !s.ok()) return fail(s);
  if (Status s = Exec("CREATE TABLE IF NOT EXISTS hollerith_meta("
                      "key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                      "cannot create the schema's table");
      !s.ok()) {
    return fail(s);
  }
  std::map<std::string, std::string> meta;
  {
    PgResult r(PQexec(conn_, "SELECT key, value FROM hollerith_meta"));
    if (r.status() != PGRES_TUPLES_OK) return fail(Error("cannot read the schema's version"));
    for (int i = 0; i < PQntuples(r.res); ++i)
      meta[PQgetvalue(r.res, i, 0)] = PQgetvalue(r.res, i, 1);
  }
  const int version = meta.count("schema_version") ? std::atoi(meta["schema_version"].c_str()) : 0;
  if (version > kPostgresSchemaVersion) {
    return fail(Status::Error(
        StatusCode::kFailedPrecondition,
        "the job store's database " + shown_ + " has schema version " + std::to_string(version) +
            ", newer than this coordinator knows (" + std::to_string(kPostgresSchemaVersion) +
            "): a newer Hollerith wrote it; upgrade this coordinator"));
  }
  if (meta.count("cluster") && meta["cluster"] != options_.cluster) {
    return fail(Status::Error(StatusCode::kFailedPrecondition,
                              "the job store's database " + shown_ + " belongs to cluster '" +
                                  meta["cluster"] + "', not '" + options_.cluster +
                                  "' (--cluster): is this the right database?"));
  }
  for (int v = version; v < kPostgresSchemaVersion; ++v) {
    spdlog::info("job store {}: migrating the schema to version {}", shown_, v + 1);
    if (Status s = Exec(kMigrations[v], "cannot migrate the schema"); !s.ok()) return fail(s);
  }
  const std::string version_text = std::to_string(kPostgresSchemaVersion);
  const char* params[] = {version_text.c_str(), options_.cluster.c_str()};
  PgResult set(PQexecParams(conn_,
                            "INSERT INTO hollerith_meta VALUES ('schema_version', $1), "
                            "('cluster', $2) ON CONFLICT (key) DO UPDATE SET value = "
                            "CASE WHEN hollerith_meta.key = 'schema_version' THEN EXCLUDED.value "
                            "ELSE hollerith_meta.value END",
                            2, nullptr, params, nullptr, nullptr, 0));
  if (set.status() != PGRES_COMMAND_OK) return fail(Error("cannot record the schema's version"));
  return Exec("COMMIT", "cannot commit the schema's migration");
}

Status PostgresBackend::Prepare() {
  const std::pair<const char*, const char*> statements[] = {
      {"insert_job",
       "INSERT INTO jobs(job_id, idempotency_key, spec_name, spec_text, submitted_wall_us, "
       "tenant, cache_mode) VALUES($1, $2, $3, $4, $5, $6, $7)"},
      {"insert_chunk", "INSERT INTO journal(job_id, chunk) VALUES($1, $2)"},
      {"set_clock",
       "UPDATE clock SET lamport_high = GREATEST(lamport_high, $1), last_writer = $2, "
       "last_batch = $3 WHERE id = 1"},
      {"delete_job", "DELETE FROM jobs WHERE job_id = $1"},
      {"delete_journal", "DELETE FROM journal WHERE job_id = $1"},
  };
  for (const auto& [name, sql] : statements) {
    PgResult r(PQprepare(conn_, name, sql, 0, nullptr));
    if (r.status() != PGRES_COMMAND_OK) return Error("cannot prepare the job store's statements");
  }
  return Status::Ok();
}

Status PostgresBackend::EnsureConnected() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
  if (Status s = Connect(); !s.ok()) return s;
  spdlog::info("job store {}: connected again", shown_);
  return Prepare();
}

Status PostgresBackend::Run(const char* statement, std::initializer_list<Param> params,
                            const char* what) {
  const char* values[8];
  int lengths[8], formats[8];
  int n = 0;
  for (const Param& p : params) {
    values[n] = p.value.c_str();
    lengths[n] = static_cast<int>(p.value.size());
    formats[n] = p.bytes ? 1 : 0;
    ++n;
  }
  PgResult r(PQexecPrepared(conn_, statement, n, values, lengths, formats, 0));
  if (r.status() != PGRES_COMMAND_OK) return Error(what);
  return Status::Ok();
}

Status PostgresBackend::Write(const std::deque<StoreBatch>& work) {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  uint64_t committed = 0;  // batches up to this one are in the database already
  if (outcome_unknown_) {
    PgResult r(PQexec(conn_, "SELECT last_writer, last_batch FROM clock WHERE id = 1"));
    if (r.status() != PGRES_TUPLES_OK || PQntuples(r.res) != 1) {
      return Error("cannot learn whether the last commit was written");
    }
    if (writer_id_ == PQgetvalue(r.res, 0, 0)) {
      committed = std::strtoull(PQgetvalue(r.res, 0, 1), nullptr, 10);
    }
    outcome_unknown_ = false;
    if (committed >= work.back().seq) return Status::Ok();
  }
  if (Status s = Exec("BEGIN", "cannot begin a commit"); !s.ok()) return s;
  uint64_t lamport_high = 0;
  Status s;
  for (const StoreBatch& b : work) {
    lamport_high = std::max(lamport_high, b.lamport_high);
    if (b.seq <= committed) continue;
    for (const auto& [job_id, chunk] : b.chunks) {
      if (s = Run("insert_chunk", {{job_id}, {chunk, true}}, "cannot write the journal"); !s.ok()) {
        break;
      }
    }
    if (s.ok() && b.job) {
      const StoredJob& job = *b.job;
      const std::string wall = std::to_string(job.submitted_wall_us);
      s = Run("insert_job",
              {{job.job_id},
               {job.idempotency_key},
               {job.spec_name},
               {job.spec_text, true},
               {wall},
               {job.tenant},
               {job.cache_mode}},
              "cannot record the job");
    }
    if (s.ok() && b.deleted) {
      for (const char* statement : {"delete_journal", "delete_job"}) {
        if (s = Run(statement, {{*b.deleted}}, "cannot remove the job"); !s.ok()) break;
      }
    }
    if (!s.ok()) break;
  }
  if (s.ok()) {
    const std::string high = std::to_string(lamport_high);
    const std::string batch = std::to_string(work.back().seq);
    s = Run("set_clock", {{high}, {writer_id_}, {batch}}, "cannot write the Lamport mark");
  }
  if (s.ok()) {
    PgResult r(PQexec(conn_, "COMMIT"));
    if (r.status() == PGRES_COMMAND_OK) return Status::Ok();
    s = Error("cannot commit");
    if (PQstatus(conn_) != CONNECTION_OK) outcome_unknown_ = true;
    return s;
  }
  if (PQstatus(conn_) == CONNECTION_OK) Exec("ROLLBACK", "").IgnoreError();  // `s` matters
  return s;
}

Result<RecoveredState> PostgresBackend::Load() {
  RecoveredState state;
  std::map<std::string, size_t> index;
  {
    PgResult r(PQexecParams(conn_,
                            "SELECT job_id, idempotency_key, spec_name, spec_text, "
                            "submitted_wall_us, tenant, cache_mode FROM jobs ORDER BY seq",
                            0, nullptr, nullptr, nullptr, nullptr, /*binary=*/1));
    if (r.status() != PGRES_TUPLES_OK) return Error("cannot read the jobs");
    for (int i = 0; i < PQntuples(r.res); ++i) {
      RecoveredJob job;
      job.job.job_id = BinaryText(r.res, i, 0);
      job.job.idempotency_key = BinaryText(r.res, i, 1);
      job.job.spec_name = BinaryText(r.res, i, 2);
      job.job.spec_text = BinaryText(r.res, i, 3);
      job.job.submitted_wall_us = BinaryInt64(r.res, i, 4);
      job.job.tenant = BinaryText(r.res, i, 5);
      job.job.cache_mode = BinaryText(r.res, i, 6);
      index[job.job.job_id] = state.jobs.size();
      state.jobs.push_back(std::move(job));
    }
  }
  {
    PgResult r(PQexecParams(conn_, "SELECT job_id, chunk FROM journal ORDER BY seq", 0, nullptr,
                            nullptr, nullptr, nullptr, /*binary=*/1));
    if (r.status() != PGRES_TUPLES_OK) return Error("cannot read the journal");
    for (int i = 0; i < PQntuples(r.res); ++i) {
      auto it = index.find(BinaryText(r.res, i, 0));
      if (it == index.end()) {
        return Status::Error(StatusCode::kDataLoss,
                             "the job store " + shown_ + " has a journal row for an unknown job");
      }
      if (!AppendChunk(PQgetvalue(r.res, i, 1), static_cast<size_t>(PQgetlength(r.res, i, 1)),
                       state.jobs[it->second])) {
        return Status::Error(StatusCode::kDataLoss,
                             "the job store " + shown_ + " has an unreadable journal row");
      }
    }
  }
  {
    PgResult r(PQexecParams(conn_, "SELECT lamport_high FROM clock WHERE id = 1", 0, nullptr,
                            nullptr, nullptr, nullptr, 1));
    if (r.status() != PGRES_TUPLES_OK || PQntuples(r.res) != 1) {
      return Error("cannot read the Lamport mark");
    }
    state.lamport_high = static_cast<uint64_t>(BinaryInt64(r.res, 0, 0));
  }
  return state;
}

}  // namespace

bool IsPostgresUri(const std::string& store) {
  return store.rfind("postgres://", 0) == 0 || store.rfind("postgresql://", 0) == 0;
}

std::string RedactedUri(const std::string& uri) {
  std::string out = uri;
  const size_t scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  const size_t authority = scheme + 3;
  const size_t end = out.find_first_of("/?", authority);
  const size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
  if (at != std::string::npos && at >= authority) {
    const size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p)) {
    p += std::strlen("password=");
    const size_t stop = out.find('&', p);
    out.replace(p, (stop == std::string::npos ? out.size() : stop) - p, "***");
  }
  return out;
}

Result<std::unique_ptr<GroupCommitStore>> OpenPostgresStore(const PostgresOptions& options) {
  const std::string shown = RedactedUri(options.uri);
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.uri.c_str(), &err);
  if (parsed == nullptr) {
    std::string why = Trimmed(err);
    PQfreemem(err);
    return Status::Error(StatusCode::kInvalidArgument,
                         "--store " + shown + " is not a PostgreSQL URI: " + why);
  }
  bool has_password = false;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr && *o->val != '\0') {
      has_password = true;
    }
  }
  PQconninfoFree(parsed);
  if (has_password) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "--store " + shown +
                             " carries a password: keep it off the command line, in a password "
                             "file (--store-passfile, PGPASSFILE or ~/.pgpass) or PGPASSWORD");
  }
  auto backend = std::make_unique<PostgresBackend>(options);
  if (Status s = backend->Open(); !s.ok()) return s;
  spdlog::info("job store: PostgreSQL at {} (schema {}, cluster '{}')", shown,
               kPostgresSchemaVersion, options.cluster);
  return std::make_unique<GroupCommitStore>(std::move(backend));
}

}  // namespace hollerith::coordinator
