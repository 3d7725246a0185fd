#include "coordinator/postgres_job_store.h"

#include <endian.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <map>
#include <random>
#include <utility>

namespace hollerith::coordinator {
namespace {

int64_t BinaryInt64(const PGresult* res, int row, int col) {
  uint64_t be = 0;
  if (PQgetlength(res, row, col) == 8) std::memcpy(&be, PQgetvalue(res, row, col), 8);
  return static_cast<int64_t>(be64toh(be));
}

std::string BinaryText(const PGresult* res, int row, int col) {
  return std::string(PQgetvalue(res, row, col), static_cast<size_t>(PQgetlength(res, row, col)));
}

class PostgresBackend : public StoreBackend {
 public:
  PostgresBackend(const PostgresOptions& options, uint64_t epoch)
      : db_(options), epoch_(std::to_string(epoch)) {
    std::random_device rd;
    writer_id_ = std::to_string(rd()) + "-" + std::to_string(rd());
  }

  Status Open();
  Status Write(const std::deque<StoreBatch>& work) override;
  Result<RecoveredState> Load() override;

 private:
  // Reconnects a connection the server or the network broke (and prepares the statements).
  Status EnsureConnected();
  Status Prepare();
  // Within the write's transaction: the leadership's epoch is still the current one.
  Status CheckEpoch();
  // A parameter of a prepared statement: text, or bytes (BYTEA).
  struct Param {
    const std::string& value;
    bool bytes = false;
  };
  Status Run(const char* statement, std::initializer_list<Param> params, const char* what);

  PgConnection db_;
  std::string epoch_;
  std::string writer_id_;
  bool outcome_unknown_ = false;  // the last COMMIT's answer was lost with the connection
};

Status PostgresBackend::Open() {
  if (Status s = db_.Open(); !s.ok()) return s;
  if (Status s = db_.Migrate(); !s.ok()) return s;
  return Prepare();
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
      {"epoch", "SELECT epoch, address FROM leader WHERE id = 1 FOR SHARE"},
  };
  for (const auto& [name, sql] : statements) {
    PgResult r(PQprepare(db_.get(), name, sql, 0, nullptr));
    if (r.status() != PGRES_COMMAND_OK)
      return db_.Error("cannot prepare the job store's statements");
  }
  return Status::Ok();
}

Status PostgresBackend::EnsureConnected() {
  if (db_.connected()) return Status::Ok();
  if (Status s = db_.Connect(); !s.ok()) return s;
  spdlog::info("job store {}: connected again", db_.shown());
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
  PgResult r(PQexecPrepared(db_.get(), statement, n, values, lengths, formats, 0));
  if (r.status() != PGRES_COMMAND_OK) return db_.Error(what);
  return Status::Ok();
}

Status PostgresBackend::CheckEpoch() {
  PgResult r(PQexecPrepared(db_.get(), "epoch", 0, nullptr, nullptr, nullptr, 0));
  if (r.status() != PGRES_TUPLES_OK || r.rows() != 1) {
    return db_.Error("cannot read the leader's epoch");
  }
  if (epoch_ == r.text(0, 0)) return Status::Ok();
  return Status::Error(StatusCode::kAborted, std::string("another coordinator leads now (epoch ") +
                                                 r.text(0, 0) + ", at " + r.text(0, 1) +
                                                 "; this one's epoch is " + epoch_ +
                                                 "): its write was refused");
}

Status PostgresBackend::Write(const std::deque<StoreBatch>& work) {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  uint64_t committed = 0;  // batches up to this one are in the database already
  if (outcome_unknown_) {
    PgResult r(PQexec(db_.get(), "SELECT last_writer, last_batch FROM clock WHERE id = 1"));
    if (r.status() != PGRES_TUPLES_OK || r.rows() != 1) {
      return db_.Error("cannot learn whether the last commit was written");
    }
    if (writer_id_ == r.text(0, 0)) committed = std::strtoull(r.text(0, 1), nullptr, 10);
    outcome_unknown_ = false;
    if (committed >= work.back().seq) return Status::Ok();
  }
  if (Status s = db_.Exec("BEGIN", "cannot begin a commit"); !s.ok()) return s;
  Status s = CheckEpoch();
  uint64_t lamport_high = 0;
  for (const StoreBatch& b : work) {
    if (!s.ok()) break;
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
  }
  if (s.ok()) {
    const std::string high = std::to_string(lamport_high);
    const std::string batch = std::to_string(work.back().seq);
    s = Run("set_clock", {{high}, {writer_id_}, {batch}}, "cannot write the Lamport mark");
  }
  if (s.ok()) {
    PgResult r(PQexec(db_.get(), "COMMIT"));
    if (r.status() == PGRES_COMMAND_OK) return Status::Ok();
    s = db_.Error("cannot commit");
    if (!db_.connected()) outcome_unknown_ = true;
    return s;
  }
  if (db_.connected()) db_.Exec("ROLLBACK", "").IgnoreError();  // the error that matters is `s`
  return s;
}

Result<RecoveredState> PostgresBackend::Load() {
  RecoveredState state;
  std::map<std::string, size_t> index;
  const std::string& shown = db_.shown();
  {
    PgResult r(PQexecParams(db_.get(),
                            "SELECT job_id, idempotency_key, spec_name, spec_text, "
                            "submitted_wall_us, tenant, cache_mode FROM jobs ORDER BY seq",
                            0, nullptr, nullptr, nullptr, nullptr, /*binary=*/1));
    if (r.status() != PGRES_TUPLES_OK) return db_.Error("cannot read the jobs");
    for (int i = 0; i < r.rows(); ++i) {
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
    PgResult r(PQexecParams(db_.get(), "SELECT job_id, chunk FROM journal ORDER BY seq", 0, nullptr,
                            nullptr, nullptr, nullptr, /*binary=*/1));
    if (r.status() != PGRES_TUPLES_OK) return db_.Error("cannot read the journal");
    for (int i = 0; i < r.rows(); ++i) {
      auto it = index.find(BinaryText(r.res, i, 0));
      if (it == index.end()) {
        return Status::Error(StatusCode::kDataLoss,
                             "the job store " + shown + " has a journal row for an unknown job");
      }
      if (!AppendChunk(PQgetvalue(r.res, i, 1), static_cast<size_t>(PQgetlength(r.res, i, 1)),
                       state.jobs[it->second])) {
        return Status::Error(StatusCode::kDataLoss,
                             "the job store " + shown + " has an unreadable journal row");
      }
    }
  }
  {
    PgResult r(PQexecParams(db_.get(), "SELECT lamport_high FROM clock WHERE id = 1", 0, nullptr,
                            nullptr, nullptr, nullptr, 1));
    if (r.status() != PGRES_TUPLES_OK || r.rows() != 1) {
      return db_.Error("cannot read the Lamport mark");
    }
    state.lamport_high = static_cast<uint64_t>(BinaryInt64(r.res, 0, 0));
  }
  return state;
}

}  // namespace

Result<std::unique_ptr<GroupCommitStore>> OpenPostgresStore(const PostgresOptions& options,
                                                            uint64_t epoch) {
  auto backend = std::make_unique<PostgresBackend>(options, epoch);
  if (Status s = backend->Open(); !s.ok()) return s;
  spdlog::info("job store: PostgreSQL at {} (schema {}, cluster '{}', epoch {})",
               RedactedUri(options.uri), kPostgresSchemaVersion, options.cluster, epoch);
  return std::make_unique<GroupCommitStore>(std::move(backend));
}

}  // namespace hollerith::coordinator
