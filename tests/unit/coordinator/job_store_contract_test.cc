// The JobStore's contract, on each durable database: SQLite in a temp dir and a real PostgreSQL
// server the test starts (tests/support/postgres_server.h). Only what was committed survives a
// reopen, in the order appended, with the job id put back; a submission is durable when Accept
// returns; Delete removes a job with its journal; the Lamport mark never goes back; a job id is
// accepted once. Then what only PostgreSQL has: the schema's version and the cluster's name are
// checked, a password never comes from the URI, a server restarted under a running store loses
// nothing, leadership and fencing, and the artifacts kept in the database.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>

#include "common/artifacts/store.h"
#include "coordinator/postgres_artifacts.h"
#include "coordinator/postgres_job_store.h"
#include "coordinator/postgres_leadership.h"
#include "coordinator/sqlite_job_store.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_dir.h"

namespace hollerith::coordinator {
namespace {

using testing::PostgresServer;

// One server per test process, made on first use and stopped at exit (its destructor); each test
// gets a database of its own.
PostgresServer& Server() {
  static PostgresServer server;
  return server;
}

// Runs `sql` as the superuser over the socket; the test fails on an error.
void Admin(const std::string& sql, const std::string& dbname = "postgres") {
  PGconn* c = PQconnectdb((Server().socket_conninfo() + " dbname=" + dbname).c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PGresult* r = PQexec(c, sql.c_str());
  EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
      << sql << ": " << PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
}

StoredJob MakeJob(const std::string& id, const std::string& key = "") {
  StoredJob job;
  job.job_id = id;
  job.idempotency_key = key;
  job.spec_name = "name of " + id;
  job.spec_text = std::string("stacks:\0binary \xff\xfe bytes, ümlaut", 33);
  job.submitted_wall_us = 1733480000123456;
  job.tenant = "team-a";
  job.cache_mode = "off";
  return job;
}

v1::CoreInput Started(const std::string& job, uint32_t stack, uint32_t card, uint64_t lamport) {
  v1::CoreInput in;
  in.set_lamport_before(lamport);
  in.set_wall_us(static_cast<int64_t>(lamport) * 10);
  auto* s = in.mutable_started();
  s->set_job_id(job);
  s->mutable_card()->set_stack(stack);
  s->mutable_card()->set_card(card);
  in.set_node("w1");
  return in;
}

class JobStoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      static int n = 0;
      db_ = "contract" + std::to_string(++n);
      Admin("CREATE DATABASE " + db_ + " OWNER hollerith");
      passfile_ = dir_.Write("pgpass", "127.0.0.1:" + std::to_string(Server().port()) +
                                           ":*:hollerith:" + Server().password() + "\n");
      ::chmod(passfile_.c_str(), 0600);
    }
  }
  PostgresOptions Options(const std::string& cluster = "hollerith") const {
    PostgresOptions o;
    o.uri = "postgres://hollerith@127.0.0.1:" + std::to_string(Server().port()) + "/" + db_;
    o.passfile = passfile_;
    o.cluster = cluster;
    o.connect_timeout = std::chrono::seconds(5);
    return o;
  }
  std::unique_ptr<GroupCommitStore> Open() {
    auto store = GetParam() == "postgres"
                     ? OpenPostgresStore(Options(), 0)
                     : OpenSqliteStore(dir_.path() + "/jobs.db", SyncMode::kNormal);
    EXPECT_TRUE(store.ok()) << store.message();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  RecoveredState Reload() {
    auto store = Open();
    if (!store) return {};
    auto state = store->Load();
    EXPECT_TRUE(state.ok()) << state.message();
    return state.ok() ? std::move(state).value() : RecoveredState{};
  }

  testing::TempDir dir_;
  std::string db_, passfile_;
};

TEST_P(JobStoreContract, AnAcceptedJobComesBackWithEveryField) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Load().ok());
    ASSERT_TRUE(store->Accept(MakeJob("j1", "key-1")).ok());
    ASSERT_TRUE(store->Accept(MakeJob("j2")).ok());
  }  // no Sync: Accept alone made them durable
  const RecoveredState state = Reload();
  ASSERT_EQ(state.jobs.size(), 2u);
  const StoredJob want = MakeJob("j1", "key-1");
  const StoredJob& got = state.jobs[0].job;
  EXPECT_EQ(got.job_id, "j1");
  EXPECT_EQ(got.idempotency_key, "key-1");
  EXPECT_EQ(got.spec_name, want.spec_name);
  EXPECT_EQ(got.spec_text, want.spec_text);
  EXPECT_EQ(got.submitted_wall_us, want.submitted_wall_us);
  EXPECT_EQ(got.tenant, "team-a");
  EXPECT_EQ(got.cache_mode, "off");
  EXPECT_EQ(state.jobs[1].job.job_id, "j2");  // in submission order
}

TEST_P(JobStoreContract, CommittedInputsComeBackInOrderAndUncommittedOnesDoNot) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Load().ok());
    ASSERT_TRUE(store->Accept(MakeJob("j1")).ok());
    ASSERT_TRUE(store->Accept(MakeJob("j2")).ok());
    for (uint32_t i = 0; i < 50; ++i) {
      store->Append(i % 2 ? "j1" : "j2", Started(i % 2 ? "j1" : "j2", i, i + 1, 100 + i));
      if (i % 10 == 9) {
        ASSERT_TRUE(store->Commit(100 + i).ok());
      }
    }
    ASSERT_TRUE(store->Sync(150).ok());
    store->Append("j1", Started("j1", 99, 99, 999));  // never committed: lost with the process
    EXPECT_TRUE(store->has_pending());
  }
  const RecoveredState state = Reload();
  ASSERT_EQ(state.jobs.size(), 2u);
  for (const RecoveredJob& job : state.jobs) {
    ASSERT_EQ(job.inputs.size(), 25u) << job.job.job_id;
    const uint32_t first = job.job.job_id == "j1" ? 1 : 0;
    for (size_t k = 0; k < job.inputs.size(); ++k) {
      const uint32_t i = first + 2 * static_cast<uint32_t>(k);
      const v1::CoreInput& in = job.inputs[k];
      EXPECT_EQ(in.started().job_id(), job.job.job_id);  // put back by Load
      EXPECT_EQ(in.started().card().stack(), i);
      EXPECT_EQ(in.started().card().card(), i + 1);
      EXPECT_EQ(in.lamport_before(), 100 + i);
      EXPECT_EQ(in.node(), "w1");
    }
  }
  EXPECT_EQ(state.lamport_high, 150u);
}

TEST_P(JobStoreContract, TheLamportMarkNeverGoesBack) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Load().ok());
    ASSERT_TRUE(store->Sync(5000000000ull).ok());  // above 2^32, as after a restart
    ASSERT_TRUE(store->Sync(7).ok());
  }
  EXPECT_EQ(Reload().lamport_high, 5000000000ull);
}

TEST_P(JobStoreContract, DeleteRemovesTheJobWithItsJournal) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Load().ok());
    for (const char* id : {"j1", "j2"}) {
      ASSERT_TRUE(store->Accept(MakeJob(id)).ok());
      store->Append(id, Started(id, 0, 0, 1));
    }
    ASSERT_TRUE(store->Sync(2).ok());
    store->Append("j1", Started("j1", 0, 1, 3));  // pending when deleted: dropped too
    ASSERT_TRUE(store->Delete("j1").ok());
  }
  const RecoveredState state = Reload();
  ASSERT_EQ(state.jobs.size(), 1u);
  EXPECT_EQ(state.jobs[0].job.job_id, "j2");
  EXPECT_EQ(state.jobs[0].inputs.size(), 1u);
}

TEST_P(JobStoreContract, AJobIdIsAcceptedOnceAndTheRefusalChangesNothing) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Load().ok());
    ASSERT_TRUE(store->Accept(MakeJob("j1", "first")).ok());
    store->Append("j1", Started("j1", 0, 0, 1));
    EXPECT_FALSE(store->Accept(MakeJob("j1", "second")).ok());
    // The inputs queued with the refused submission are written with the next commit.
    ASSERT_TRUE(store->Sync(2).ok());
  }
  const RecoveredState state = Reload();
  ASSERT_EQ(state.jobs.size(), 1u);
  EXPECT_EQ(state.jobs[0].job.idempotency_key, "first");
  EXPECT_EQ(state.jobs[0].inputs.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Stores, JobStoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// What only the PostgreSQL store has.
class PostgresStore : public JobStoreContract {};

TEST_P(PostgresStore, ADatabaseOfANewerSchemaIsRefused) {
  ASSERT_TRUE(Open());
  Admin("UPDATE hollerith_meta SET value = '99' WHERE key = 'schema_version'", db_);
  auto again = OpenPostgresStore(Options(), 0);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.message().find("schema version 99"), std::string::npos) << again.message();
  EXPECT_NE(again.message().find("upgrade"), std::string::npos) << again.message();
}

TEST_P(PostgresStore, ADatabaseOfAnotherClusterIsRefused) {
  ASSERT_TRUE(Open());
  auto other = OpenPostgresStore(Options("staging"), 0);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.message().find("belongs to cluster 'hollerith', not 'staging'"),
            std::string::npos)
      << other.message();
}

TEST_P(PostgresStore, APasswordInTheUriIsRefusedAndNeverShown) {
  PostgresOptions o = Options();
  o.uri = "postgres://hollerith:" + Server().password() +
          "@127.0.0.1:" + std::to_string(Server().port()) + "/" + db_;
  auto store = OpenPostgresStore(o, 0);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.message().find("password file"), std::string::npos) << store.message();
  EXPECT_EQ(store.message().find(Server().password()), std::string::npos) << store.message();
  EXPECT_EQ(RedactedUri("postgres://u:secret@h:5/d?password=again&sslmode=require"),
            "postgres://u:***@h:5/d?password=***&sslmode=require");
}

TEST_P(PostgresStore, AWrongPasswordIsAnErrorAtOnceNotARetry) {
  testing::TempDir dir;
  PostgresOptions o = Options();
  o.passfile = dir.Write(
      "pgpass", "127.0.0.1:" + std::to_string(Server().port()) + ":*:hollerith:not-the-password\n");
  ::chmod(o.passfile.c_str(), 0600);
  o.connect_timeout = std::chrono::seconds(60);  // a retry would take this long to fail
  const auto began = std::chrono::steady_clock::now();
  auto store = OpenPostgresStore(o, 0);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.message().find("password authentication failed"), std::string::npos)
      << store.message();
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(30));
}

TEST_P(PostgresStore, AnUnreachableServerIsRetriedThenAClearError) {
  PostgresOptions o = Options();
  o.uri = "postgres://hollerith@127.0.0.1:1/" + db_;  // nothing listens on port 1
  o.connect_timeout = std::chrono::milliseconds(700);
  auto store = OpenPostgresStore(o, 0);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.message().find("gave up after"), std::string::npos) << store.message();
  EXPECT_NE(store.message().find("127.0.0.1:1"), std::string::npos) << store.message();
}

TEST_P(PostgresStore, AServerRestartedUnderTheStoreLosesNothing) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Load().ok());
  ASSERT_TRUE(store->Accept(MakeJob("j1")).ok());
  store->Append("j1", Started("j1", 0, 0, 1));
  ASSERT_TRUE(store->Sync(1).ok());
  Server().Stop();
  store->Append("j1", Started("j1", 0, 1, 2));
  EXPECT_FALSE(store->Sync(2).ok());                // said, not hidden
  EXPECT_FALSE(store->Accept(MakeJob("j2")).ok());  // submissions refused meanwhile
  Server().Start();
  store->Append("j1", Started("j1", 0, 2, 3));
  Status synced = store->Sync(3);
  for (int i = 0; i < 50 && !synced.ok(); ++i) synced = store->Sync(3);  // reconnects at a write
  ASSERT_TRUE(synced.ok()) << synced.message();
  store.reset();
  const RecoveredState state = Reload();
  ASSERT_EQ(state.jobs.size(), 1u);            // j2 was refused
  ASSERT_EQ(state.jobs[0].inputs.size(), 3u);  // each input once
  for (uint32_t k = 0; k < 3; ++k) EXPECT_EQ(state.jobs[0].inputs[k].started().card().card(), k);
}

TEST_P(PostgresStore, AWriteUnderAnEpochThatEndedIsRefusedAndNothingOfItIsWritten) {
  auto store = Open();  // epoch 0: nobody has led this database yet
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Load().ok());
  ASSERT_TRUE(store->Accept(MakeJob("j1")).ok());
  std::atomic<bool> fenced{false};
  store->SetFencedHandler([&](const Status&) { fenced = true; });

  PostgresLeadership next(Options(), "next", std::chrono::seconds(5));
  ASSERT_TRUE(next.Open().ok());
  auto epoch = next.Acquire("next-leader.example:7070");
  ASSERT_TRUE(epoch.ok()) << epoch.message();
  EXPECT_EQ(*epoch, 1u);

  store->Append("j1", Started("j1", 0, 0, 1));
  const Status refused = store->Sync(1);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(
      refused.message().find("another coordinator leads now (epoch 1, at next-leader.example:7070"),
      std::string::npos)
      << refused.message();
  EXPECT_TRUE(fenced);
  EXPECT_FALSE(store->Accept(MakeJob("j2")).ok());
  store.reset();

  auto successor = OpenPostgresStore(Options(), *epoch);
  ASSERT_TRUE(successor.ok()) << successor.message();
  auto state = (*successor)->Load();
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->jobs.size(), 1u);
  EXPECT_TRUE(state->jobs[0].inputs.empty());             // the refused write left nothing
  ASSERT_TRUE((*successor)->Accept(MakeJob("j2")).ok());  // the leader's writes go through
}

TEST_P(PostgresStore, AStandbyLeadsOnceTheLeaderStopsRenewingOrResigns) {
  const auto lease = std::chrono::milliseconds(600);
  auto first = std::make_unique<PostgresLeadership>(Options(), "first", lease);
  ASSERT_TRUE(first->Open().ok());
  auto e1 = first->Acquire("first:1");
  ASSERT_TRUE(e1.ok()) << e1.message();
  first->KeepLeading([](const std::string&) {});

  PostgresLeadership second(Options(), "second", lease);
  ASSERT_TRUE(second.Open().ok());
  auto waiting = std::async(std::launch::async, [&] { return second.Acquire("second:2"); });
  first.reset();  // dies: its lease is not renewed any more, and runs out
  auto e2 = waiting.get();
  ASSERT_TRUE(e2.ok()) << e2.message();
  EXPECT_EQ(*e2, *e1 + 1);

  second.Resign();  // a clean shutdown: the next takes over without waiting for the lease
  PostgresLeadership third(Options(), "third", std::chrono::minutes(10));
  ASSERT_TRUE(third.Open().ok());
  auto e3 = third.Acquire("third:3");
  ASSERT_TRUE(e3.ok()) << e3.message();
  EXPECT_EQ(*e3, *e2 + 1);
}

TEST_P(PostgresStore, ALeaderWhoseLeaseWasTakenIsToldToStop) {
  PostgresLeadership leader(Options(), "leader", std::chrono::milliseconds(400));
  ASSERT_TRUE(leader.Open().ok());
  ASSERT_TRUE(leader.Acquire("leader:1").ok());
  std::mutex mu;
  std::condition_variable cv;
  std::string why;
  leader.KeepLeading([&](const std::string& w) {
    std::lock_guard lock(mu);
    why = w;
    cv.notify_all();
  });
  // What a standby does when the lease ran out while the leader was paused.
  Admin("UPDATE leader SET epoch = epoch + 1, address = 'other:2' WHERE id = 1", db_);
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !why.empty(); }));
  EXPECT_NE(why.find("other:2 leads with epoch 2"), std::string::npos) << why;
}

// Artifacts published under one coordinator are there for the next: saved in the database
// before the upload counts, fetched into a data dir that lacks them and checked on the way.
TEST_P(PostgresStore, AnArtifactPublishedUnderOneLeaderIsThereForTheNext) {
  ASSERT_TRUE(Open());  // migrates the schema
  PostgresArtifacts first_db(Options()), second_db(Options());
  ASSERT_TRUE(first_db.Open().ok());
  ASSERT_TRUE(second_db.Open().ok());
  ArtifactStore first(dir_.path() + "/first"), second(dir_.path() + "/second");
  first.SetReplica(&first_db);
  second.SetReplica(&second_db);
  const std::string content(300000, 'x');
  const std::string file = dir_.Write("out.bin", content + "end");
  auto digest = first.Put(file);
  ASSERT_TRUE(digest.ok()) << digest.message();
  // Published twice (another coordinator, the same blob): one copy.
  ASSERT_TRUE(second_db.Save(*digest, file).ok());

  EXPECT_FALSE(std::filesystem::exists(second.PathOf(*digest)));
  ASSERT_TRUE(second.Has(*digest));  // fetched from the database
  ASSERT_TRUE(second.Materialize(*digest, dir_.path() + "/copy").ok());
  std::ifstream copy(dir_.path() + "/copy", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(copy), {}), content + "end");

  const std::string unknown(64, 'a');
  EXPECT_FALSE(second.Has(unknown));
  EXPECT_EQ(second_db.Load(unknown, dir_.path() + "/none").code(), StatusCode::kNotFound);
  // A blob that does not hash to its name is never taken in.
  Admin("UPDATE artifacts SET digest = '" + unknown + "'", db_);
  EXPECT_FALSE(second.Has(unknown));
  EXPECT_FALSE(std::filesystem::exists(second.PathOf(unknown)));
}

INSTANTIATE_TEST_SUITE_P(Server, PostgresStore, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace hollerith::coordinator
