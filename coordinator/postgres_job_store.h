// The durable JobStore on a PostgreSQL server, for a team that outgrows one machine's SQLite: the
// same group commit (coordinator/group_commit_store.h), the same journal and the same recovery,
// only the database differs. Chosen with `--store postgres://[user@]host[:port]/db[?sslmode=...]`;
// the password comes from libpq's own sources (PGPASSWORD, PGPASSFILE, ~/.pgpass, or the
// `passfile` given here), never from the command line: a URI that carries one is refused, and
// what is logged of the URI never holds it. TLS to the server is libpq's (`sslmode`,
// `sslrootcert`, ... in the URI or the PGSSL* variables).
//
// The schema is versioned: migrations run at start (one coordinator at a time, under an advisory
// lock), and a database written by a newer binary is refused. The database records the name of
// the cluster that made it; a coordinator of another cluster is refused.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "coordinator/group_commit_store.h"

namespace hollerith::coordinator {

struct PostgresOptions {
  std::string uri;       // postgres://... or postgresql://... (no password)
  std::string passfile;  // optional: a libpq password file (see PGPASSFILE)
  std::string cluster = "hollerith";
  // How long an unreachable server is retried (with backoff, each try logged) before giving up.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(60);
};

// The newest schema this binary writes.
inline constexpr int kPostgresSchemaVersion = 1;

// True for `--store` values that name a PostgreSQL server.
bool IsPostgresUri(const std::string& store);
// The URI without its password (for logs and errors).
std::string RedactedUri(const std::string& uri);

Result<std::unique_ptr<GroupCommitStore>> OpenPostgresStore(const PostgresOptions& options);

}  // namespace hollerith::coordinator
