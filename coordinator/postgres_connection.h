// What the PostgreSQL job store and the leadership of coordinators sharing it have in common: the
// options of `--store postgres://...`, one libpq connection (made patiently at start: an
// unreachable server is retried with backoff and said so; a refusal such as a wrong password is
// an error at once), the URI as logs may show it (never the password), and the versioned schema,
// migrated at start under an advisory lock (a database written by a newer binary is refused, and
// one of another cluster too).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <string>

#include "common/base/status.h"

namespace hollerith::coordinator {

struct PostgresOptions {
  std::string uri;       // postgres://... or postgresql://... (no password)
  std::string passfile;  // optional: a libpq password file (see PGPASSFILE)
  std::string cluster = "hollerith";
  // How long an unreachable server is retried (with backoff, each try logged) before giving up.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(60);
  // A call on a connection the network lost fails after about this long (TCP keepalives and
  // tcp_user_timeout), instead of hanging.
  std::chrono::milliseconds io_timeout = std::chrono::seconds(10);
};

// The newest schema this binary writes.
inline constexpr int kPostgresSchemaVersion = 3;

// True for `--store` values that name a PostgreSQL server.
bool IsPostgresUri(const std::string& store);
// The URI without its password (for logs and errors).
std::string RedactedUri(const std::string& uri);

// Clears a result when it goes out of scope.
struct PgResult {
  PGresult* res = nullptr;
  explicit PgResult(PGresult* r) : res(r) {}
  ~PgResult() { PQclear(res); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ExecStatusType status() const { return PQresultStatus(res); }
  int rows() const { return PQntuples(res); }
  const char* text(int row, int col) const { return PQgetvalue(res, row, col); }
};

class PgConnection {
 public:
  explicit PgConnection(PostgresOptions options);
  ~PgConnection() { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Checks the options (a URI that parses, without a password), then connects, retrying an
  // unreachable server until options.connect_timeout.
  Status Open();
  // One attempt: kUnavailable when another may succeed, kFailedPrecondition when not.
  Status Connect();
  bool connected() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }
  PGconn* get() const { return conn_; }
  // The URI as logs and errors may show it.
  const std::string& shown() const { return shown_; }
  const PostgresOptions& options() const { return options_; }

  Status Exec(const char* sql, const char* what);
  // `what`, with the server's message.
  Status Error(const std::string& what) const;
  // Brings the schema to kPostgresSchemaVersion, in one transaction under an advisory lock.
  Status Migrate();

 private:
  PostgresOptions options_;
  std::string shown_;
  PGconn* conn_ = nullptr;
};

}  // namespace hollerith::coordinator
