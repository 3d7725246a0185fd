// The job store's WAL checkpoints: on the checkpointer's thread, not in the commit that crosses the
// threshold; and by the commit itself only when the thread is far behind.
#include "coordinator/wal_checkpointer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "tests/support/temp_dir.h"

namespace hollerith::coordinator {
namespace {

class WalCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/store.db";
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db_), SQLITE_OK);
    Exec("PRAGMA journal_mode=WAL;");
    Exec("CREATE TABLE t(x BLOB);");
  }
  void TearDown() override {
    checkpointer_.reset();
    sqlite3_close(db_);
  }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "");
  }
  // One transaction of one row about a page (4 KiB) large.
  void CommitAPage() { Exec("INSERT INTO t VALUES(zeroblob(4000));"); }

  testing::TempDir dir_;
  std::string path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<WalCheckpointer> checkpointer_;
};

TEST_F(WalCheckpointerTest, ItsThreadCheckpointsAndTheWalStartsOver) {
  auto started = WalCheckpointer::Start(path_, db_, /*pages=*/8, /*max_pages=*/1'000'000);
  ASSERT_TRUE(started.ok()) << started.status().message();
  checkpointer_ = std::move(started).value();
  for (int i = 0; i < 20; ++i) CommitAPage();
  EXPECT_GE(checkpointer_->wal_pages(), 8);  // no commit checkpointed on its own
  // Its last checkpoint began after the last commit (each commit past the threshold asks for
  // one more): once it has caught up, everything is in the database and a commit starts the WAL
  // over.
  ASSERT_TRUE(checkpointer_->WaitIdle(std::chrono::seconds(10)));
  EXPECT_GE(checkpointer_->checkpoints(), 1u);
  CommitAPage();
  EXPECT_LT(checkpointer_->wal_pages(), 8) << "the WAL did not start over";
  int rows = 0;
  sqlite3_exec(
      db_, "SELECT count(*) FROM t;",
      [](void* n, int, char** v, char**) {
        *static_cast<int*>(n) = std::stoi(v[0]);
        return 0;
      },
      &rows, nullptr);
  EXPECT_GE(rows, 21);
}

TEST_F(WalCheckpointerTest, FarBehindTheCommitCheckpointsItselfAndTheWalStaysBounded) {
  // A threshold the thread never reaches: only the commits' own checkpoints keep the WAL small.
  auto started = WalCheckpointer::Start(path_, db_, /*pages=*/1'000'000, /*max_pages=*/16);
  ASSERT_TRUE(started.ok()) << started.status().message();
  checkpointer_ = std::move(started).value();
  int most = 0;
  for (int i = 0; i < 100; ++i) {
    CommitAPage();
    most = std::max(most, checkpointer_->wal_pages());
  }
  EXPECT_LE(most, 16 + 4);  // a commit of a few pages may cross the bound before it checkpoints
  EXPECT_EQ(checkpointer_->checkpoints(), 0u);
}

TEST_F(WalCheckpointerTest, AMissingDatabaseIsAClearError) {
  auto started = WalCheckpointer::Start(dir_.path() + "/missing/store.db", db_);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find("for checkpoints"), std::string::npos);
}

}  // namespace
}  // namespace hollerith::coordinator
