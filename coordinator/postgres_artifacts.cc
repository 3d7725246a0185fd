#include "coordinator/postgres_artifacts.h"

#include <cstdlib>

namespace hollerith::coordinator {

Status PostgresArtifacts::Ready() {
  if (db_.connected()) return Status::Ok();
  return db_.Connect();
}

Status PostgresArtifacts::Abandon(Status s) {
  if (db_.connected()) db_.Exec("ROLLBACK", "").IgnoreError();
  return s;
}

Status PostgresArtifacts::Save(const std::string& digest, const std::filesystem::path& blob) {
  std::lock_guard lock(mu_);
  if (Status s = Ready(); !s.ok()) return s;
  const char* params[] = {digest.c_str(), nullptr};
  {
    PgResult have(PQexecParams(db_.get(), "SELECT 1 FROM artifacts WHERE digest = $1", 1, nullptr,
                               params, nullptr, nullptr, 0));
    if (have.status() != PGRES_TUPLES_OK) return db_.Error("cannot look up artifact " + digest);
    if (have.rows() == 1) return Status::Ok();
  }
  if (Status s = db_.Exec("BEGIN", "cannot save an artifact"); !s.ok()) return s;
  const Oid oid = lo_import(db_.get(), blob.c_str());
  if (oid == InvalidOid) return Abandon(db_.Error("cannot save artifact " + digest));
  const std::string oid_text = std::to_string(oid);
  params[1] = oid_text.c_str();
  PgResult added(PQexecParams(db_.get(),
                              "INSERT INTO artifacts VALUES ($1, $2) ON CONFLICT DO NOTHING "
                              "RETURNING digest",
                              2, nullptr, params, nullptr, nullptr, 0));
  if (added.status() != PGRES_TUPLES_OK) {
    return Abandon(db_.Error("cannot save artifact " + digest));
  }
  // Another coordinator saved it meanwhile: this copy goes.
  if (added.rows() == 0 && lo_unlink(db_.get(), oid) != 1) {
    return Abandon(db_.Error("cannot save artifact " + digest));
  }
  return db_.Exec("COMMIT", ("cannot save artifact " + digest).c_str());
}

Status PostgresArtifacts::Load(const std::string& digest, const std::filesystem::path& dest) {
  std::lock_guard lock(mu_);
  if (Status s = Ready(); !s.ok()) return s;
  if (Status s = db_.Exec("BEGIN", "cannot read an artifact"); !s.ok()) return s;
  const char* params[] = {digest.c_str()};
  PgResult found(PQexecParams(db_.get(), "SELECT content FROM artifacts WHERE digest = $1", 1,
                              nullptr, params, nullptr, nullptr, 0));
  if (found.status() != PGRES_TUPLES_OK) {
    return Abandon(db_.Error("cannot read artifact " + digest));
  }
  if (found.rows() == 0) return Abandon(Status::NotFound("no artifact " + digest));
  const Oid oid = static_cast<Oid>(std::strtoul(found.text(0, 0), nullptr, 10));
  if (lo_export(db_.get(), oid, dest.c_str()) != 1) {
    return Abandon(db_.Error("cannot read artifact " + digest));
  }
  return db_.Exec("COMMIT", ("cannot read artifact " + digest).c_str());
}

}  // namespace hollerith::coordinator
