// The group commit's threads: a write someone waits for goes on the caller's thread when the writer
// is idle (no hand-off), joins the writer's next group when it is busy, and a failed one is
// retried by the writer, in order, once.
#include "coordinator/group_commit_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace hollerith::coordinator {
namespace {

using std::chrono::seconds;

// A database that records each Write: on which thread, which batches, and whether it failed.
class RecordingBackend : public StoreBackend {
 public:
  struct Write {
    std::thread::id thread;
    std::vector<uint64_t> seqs;
    std::vector<std::string> chunk_jobs;  // the jobs whose inputs it carried, batch by batch
    bool ok = true;
  };

  Status Write(const std::deque<StoreBatch>& work) override {
    std::unique_lock lock(mu_);
    ++at_once_;
    most_at_once_ = std::max(most_at_once_, at_once_);
    struct Write w {
      std::this_thread::get_id(), {}, {}, fail_next_ == 0
    };
    for (const StoreBatch& b : work) {
      w.seqs.push_back(b.seq);
      for (const auto& [job, bytes] : b.chunks) w.chunk_jobs.push_back(job);
    }
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    if (fail_next_ > 0) --fail_next_;
    writes_.push_back(w);
    --at_once_;
    cv_.notify_all();
    return w.ok ? Status::Ok() : Status::Unavailable("the disk is away");
  }
  Result<RecoveredState> Load() override { return RecoveredState{}; }

  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
    entered_ = false;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void FailNext(int n) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
  }
  int most_at_once() {
    std::lock_guard lock(mu_);
    return most_at_once_;
  }
  // Waits (10 s at most) until a Write has begun behind the closed gate.
  bool WaitEntered() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, seconds(10), [&] { return entered_; });
  }
  // Waits (10 s at most) until `n` writes have ended; returns them.
  std::vector<struct Write> WaitWrites(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, seconds(10), [&] { return writes_.size() >= n; });
    return writes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  bool entered_ = false;
  int fail_next_ = 0;
  int at_once_ = 0;  // Writes under way
  int most_at_once_ = 0;
  std::vector<struct Write> writes_;
};

v1::CoreInput Started(uint32_t card) {
  v1::CoreInput in;
  in.mutable_started()->mutable_card()->set_card(card);
  return in;
}

class GroupCommitStoreTest : public ::testing::Test {
 protected:
  GroupCommitStoreTest() {
    auto backend = std::make_unique<RecordingBackend>();
    backend_ = backend.get();
    store_ = std::make_unique<GroupCommitStore>(std::move(backend));
  }
  RecordingBackend* backend_;
  std::unique_ptr<GroupCommitStore> store_;
};

TEST_F(GroupCommitStoreTest, AWaitedWriteWhileTheWriterIsIdleIsWrittenByTheCaller) {
  ASSERT_TRUE(store_->Accept({.job_id = "j1"}).ok());
  store_->Append("j1", Started(0));
  ASSERT_TRUE(store_->Sync(1).ok());
  const auto writes = backend_->WaitWrites(2);
  ASSERT_EQ(writes.size(), 2u);
  for (const auto& w : writes) EXPECT_EQ(w.thread, std::this_thread::get_id());
  EXPECT_EQ(writes[1].chunk_jobs, std::vector<std::string>{"j1"});
}

TEST_F(GroupCommitStoreTest, AWaitedWriteBehindABusyWriterJoinsItsNextGroup) {
  backend_->Close();
  store_->Append("j1", Started(0));
  ASSERT_TRUE(store_->Commit(1).ok());  // not waited for: the writer takes it
  ASSERT_TRUE(backend_->WaitEntered());
  std::thread::id caller;
  auto synced = std::async(std::launch::async, [&] {
    caller = std::this_thread::get_id();
    store_->Append("j2", Started(0));
    return store_->Sync(2);
  });
  // The Sync queues its batch behind the write under way (it may not write beside it).
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (store_->queued_batches() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(store_->queued_batches(), 1u);
  backend_->Open();
  ASSERT_EQ(synced.wait_for(seconds(10)), std::future_status::ready);
  ASSERT_TRUE(synced.get().ok());
  const auto writes = backend_->WaitWrites(2);
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0].chunk_jobs, std::vector<std::string>{"j1"});
  EXPECT_EQ(writes[1].chunk_jobs, std::vector<std::string>{"j2"});
  EXPECT_EQ(writes[1].thread, writes[0].thread);  // both the writer's
  EXPECT_NE(writes[1].thread, caller);
  EXPECT_EQ(backend_->most_at_once(), 1);
}

TEST_F(GroupCommitStoreTest, ACallersFailedWriteIsRetriedByTheWriterInOrderAndOnce) {
  backend_->FailNext(1);
  store_->Append("j1", Started(0));
  EXPECT_FALSE(store_->Sync(1).ok());  // said, not hidden
  // Nobody calls again: the writer retries it on its own.
  auto writes = backend_->WaitWrites(2);
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_FALSE(writes[0].ok);
  EXPECT_EQ(writes[0].thread, std::this_thread::get_id());
  EXPECT_TRUE(writes[1].ok);
  EXPECT_NE(writes[1].thread, std::this_thread::get_id());
  EXPECT_EQ(writes[1].seqs, writes[0].seqs);
  store_->Append("j2", Started(0));
  ASSERT_TRUE(store_->Sync(2).ok());
  writes = backend_->WaitWrites(3);
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(writes[2].chunk_jobs, std::vector<std::string>{"j2"});  // j1's inputs not again
  EXPECT_GT(writes[2].seqs.front(), writes[1].seqs.back());
}

}  // namespace
}  // namespace hollerith::coordinator
