// The artifacts of coordinators sharing one PostgreSQL store: every blob a card publishes is saved
// in the database (a large object under its sha256, streamed from and to files by libpq, so
// memory stays small whatever its size) before the upload is acknowledged, and a coordinator that
// took over fetches what its own data dir lacks. Blobs are content-addressed and never change, so
// a fenced ex-leader's save is harmless: no epoch check is needed here.
#pragma once

#include <mutex>

#include "common/artifacts/store.h"
#include "coordinator/postgres_connection.h"

namespace hollerith::coordinator {

class PostgresArtifacts : public ArtifactReplica {
 public:
  explicit PostgresArtifacts(PostgresOptions options) : db_(std::move(options)) {}
  // Connects (patiently); the schema is the store's (migrated before).
  Status Open() { return db_.Open(); }

  Status Save(const std::string& digest, const std::filesystem::path& blob) override;
  Status Load(const std::string& digest, const std::filesystem::path& dest) override;

 private:
  // Reconnects if the connection was lost.
  Status Ready();
  // Ends the transaction with ROLLBACK and returns `s`.
  Status Abandon(Status s);

  std::mutex mu_;  // one call at a time on the connection
  PgConnection db_;
};

}  // namespace hollerith::coordinator
