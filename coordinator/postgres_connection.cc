#include "coordinator/postgres_connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <thread>
#include <utility>
#include <vector>

namespace hollerith::coordinator {
namespace {

// Serializes the schema's migrations between coordinators starting together on one database.
constexpr int64_t kMigrationLock = 0x486f6c6c65726974;  // "Holleri t"

// Migration N (1-based) brings a database at schema N-1 to schema N. Append only: a released
// migration is never edited.
constexpr const char* kMigrations[] = {
    // 1: the journal (as SQLite's), and the Lamport mark with which writer's batch was committed
    // last (a commit whose answer was lost with the connection is looked up there before it is
    // written again).
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
CREATE TABLE clock(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  lamport_high BIGINT NOT NULL,
  last_writer TEXT NOT NULL,
  last_batch BIGINT NOT NULL);
INSERT INTO clock VALUES (1, 0, '', 0);
)",
    // 2: the leader's lease (coordinator/postgres_leadership.h): who leads, under which epoch,
    // where clients reach it, and until when (the database's clock) unless it renews.
    R"(
CREATE TABLE leader(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch BIGINT NOT NULL,
  holder TEXT NOT NULL,
  address TEXT NOT NULL,
  lease_until TIMESTAMPTZ NOT NULL);
INSERT INTO leader VALUES (1, 0, '', '', '-infinity');
)",
    // 3: the artifacts cards publish (coordinator/postgres_artifacts.h), as large objects under
    // their sha256, so that a coordinator taking over has them.
    R"(
CREATE TABLE artifacts(
  digest TEXT PRIMARY KEY,
  content OID NOT NULL);
)",
};
static_assert(std::size(kMigrations) == kPostgresSchemaVersion);

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

PgConnection::PgConnection(PostgresOptions options)
    : options_(std::move(options)), shown_(RedactedUri(options_.uri)) {}

Status PgConnection::Error(const std::string& what) const {
  return Status::Error(StatusCode::kUnavailable, what + " (job store " + shown_ + ": " +
                                                     Trimmed(PQerrorMessage(conn_)) + ")");
}

Status PgConnection::Connect() {
  PQfinish(conn_);
  const std::string io_ms = std::to_string(options_.io_timeout.count());
  const std::string probe_s =
      std::to_string(std::max<int64_t>(1, options_.io_timeout.count() / 3000));
  std::vector<const char*> keys{"dbname",          "application_name",    "connect_timeout",
                                "keepalives_idle", "keepalives_interval", "keepalives_count",
                                "tcp_user_timeout"};
  std::vector<const char*> values{options_.uri.c_str(), "hollerith-coordinator", "10",
                                  probe_s.c_str(),      probe_s.c_str(),         "2",
                                  io_ms.c_str()};
  if (!options_.passfile.empty()) {
    keys.push_back("passfile");
    values.push_back(options_.passfile.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (connected()) {
    // The server's notices (e.g. "relation ... already exists, skipping" of the schema's
    // set-up) go to the debug log, not to stderr.
    PQsetNoticeProcessor(
        conn_,
        [](void*, const char* message) { spdlog::debug("PostgreSQL: {}", Trimmed(message)); },
        nullptr);
    return Status::Ok();
  }
  const std::string why = conn_ ? Trimmed(PQerrorMessage(conn_)) : "out of memory";
  return Status::Error(Fatal(why) ? StatusCode::kFailedPrecondition : StatusCode::kUnavailable,
                       "cannot connect to the job store's database " + shown_ + ": " + why);
}

Status PgConnection::Open() {
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options_.uri.c_str(), &err);
  if (parsed == nullptr) {
    std::string why = Trimmed(err);
    PQfreemem(err);
    return Status::Error(StatusCode::kInvalidArgument,
                         "--store " + shown_ + " is not a PostgreSQL URI: " + why);
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
                         "--store " + shown_ +
                             " carries a password: keep it off the command line, in a password "
                             "file (--store-passfile, PGPASSFILE or ~/.pgpass) or PGPASSWORD");
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    Status s = Connect();
    if (s.ok() || s.code() != StatusCode::kUnavailable) return s;
    if (std::chrono::steady_clock::now() + backoff > deadline) {
      return Status::Error(StatusCode::kUnavailable,
                           s.message() + " (gave up after " +
                               std::to_string(options_.connect_timeout.count() / 1000) + " s)");
    }
    spdlog::warn("{}; trying again in {} ms", s.message(), backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

Status PgConnection::Exec(const char* sql, const char* what) {
  PgResult r(PQexec(conn_, sql));
  if (r.status() != PGRES_COMMAND_OK && r.status() != PGRES_TUPLES_OK) return Error(what);
  return Status::Ok();
}

Status PgConnection::Migrate() {
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
    for (int i = 0; i < r.rows(); ++i) meta[r.text(i, 0)] = r.text(i, 1);
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

}  // namespace hollerith::coordinator
