// The durable JobStore on a PostgreSQL server, for a team that outgrows one machine's SQLite: the
// same group commit (coordinator/group_commit_store.h), the same journal and the same recovery,
// only the database differs. Chosen with `--store postgres://[user@]host[:port]/db[?sslmode=...]`
// (coordinator/postgres_connection.h: the password, TLS, the schema).
//
// Fencing: a store is opened under the epoch of the coordinator's leadership
// (coordinator/postgres_leadership.h), and every write checks in its own transaction that the
// epoch is still the current one (holding the leader row's share lock, so that a takeover waits for
// the write or the write sees the takeover). A write of a coordinator that another took over from
// is refused with kAborted and nothing of it is written.
#pragma once

#include <memory>

#include "coordinator/group_commit_store.h"
#include "coordinator/postgres_connection.h"

namespace hollerith::coordinator {

// `epoch`: the leadership's (0 on a database nobody has led yet, as in the store's tests).
Result<std::unique_ptr<GroupCommitStore>> OpenPostgresStore(const PostgresOptions& options,
                                                            uint64_t epoch);

}  // namespace hollerith::coordinator
