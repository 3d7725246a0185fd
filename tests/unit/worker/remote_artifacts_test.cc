// RemoteArtifacts against the in-process fake coordinator: chunked upload with the digest first,
// no second upload of a known blob, fetch into the cache and out of it, one download for concurrent
// fetches of one blob, a corrupt or missing blob reported as the card's failure reason, and
// transfers that wait (for their patience) for a coordinator that is away.
#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <thread>

#include "common/artifacts/store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/fake_coordinator.h"
#include "worker/channel.h"
#include "worker/remote_artifacts.h"

namespace hollerith::testing {
namespace {

namespace fs = std::filesystem;
constexpr const char* kToken = "artifact-token";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

class RemoteArtifactsTest : public ::testing::Test {
 protected:
  RemoteArtifactsTest()
      : fake_(kToken),
        dir_(temp_.path()),
        coordinators_(fake_.address(),
                      [](const std::string& address) {
                        return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
                      }),
        work_(io_.get_executor()),
        artifacts_(std::make_unique<worker::RemoteArtifacts>(io_, clock_, dir_ / "cache",
                                                             coordinators_, kToken)),
        thread_([this] { io_.run(); }) {}

  ~RemoteArtifactsTest() override {
    work_.reset();
    io_.stop();
    thread_.join();
    artifacts_.reset();
  }

  Result<std::string> Publish(const fs::path& file) {
    std::promise<Result<std::string>> p;
    asio::post(io_, [&] {
      artifacts_->Publish(file, [&](Result<std::string> r) { p.set_value(std::move(r)); });
    });
    auto f = p.get_future();
    if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      return Status::Error("timed out");
    }
    return f.get();
  }

  Status Fetch(const std::string& digest, const fs::path& dest) {
    std::promise<Status> p;
    asio::post(io_, [&] { artifacts_->Fetch(digest, dest, [&](Status s) { p.set_value(s); }); });
    auto f = p.get_future();
    if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      return Status::Error("timed out");
    }
    return f.get();
  }

  uint64_t LamportNow() {
    std::promise<uint64_t> p;
    asio::post(io_, [&] { p.set_value(clock_.now()); });
    return p.get_future().get();
  }

  FakeCoordinator fake_;
  TempDir temp_;  // removed after everything below is gone
  fs::path dir_;
  rpc::LeaderFollower coordinators_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  LamportClock clock_;
  std::unique_ptr<worker::RemoteArtifacts> artifacts_;
  std::thread thread_;
};

TEST_F(RemoteArtifactsTest, PublishUploadsInChunksOnceAndMergesTheClock) {
  std::string content(size_t{2} * worker::RemoteArtifacts::kChunkBytes + 12345, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 31 + 7);
  const fs::path file = dir_ / "out.bin";
  WriteFile(file, content);

  auto digest = Publish(file);
  ASSERT_TRUE(digest.ok()) << digest.message();
  EXPECT_EQ(*digest, Sha256Hex(content));
  auto blobs = fake_.blobs();
  ASSERT_EQ(blobs.count(*digest), 1u);
  EXPECT_EQ(blobs[*digest], content);
  EXPECT_GE(LamportNow(), 1000u);  // the fake answers with lamport 1000

  auto again = Publish(file);
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(*again, *digest);
  // One upload, in three chunks (2 MiB + a bit, 1 MiB each).
  EXPECT_EQ(fake_.upload_chunks(), std::vector<int>{3});
}

TEST_F(RemoteArtifactsTest, EmptyFileIsUploadedAsOneChunkCarryingTheDigest) {
  const fs::path file = dir_ / "empty";
  WriteFile(file, "");
  auto digest = Publish(file);
  ASSERT_TRUE(digest.ok()) << digest.message();
  EXPECT_EQ(*digest, Sha256Hex(""));
  EXPECT_EQ(fake_.upload_chunks(), std::vector<int>{1});
  EXPECT_EQ(fake_.blobs().count(*digest), 1u);
}

TEST_F(RemoteArtifactsTest, FetchDownloadsVerifiesCachesAndMaterializes) {
  const std::string content = "numbers\n1\n2\n3\n";
  const std::string digest = Sha256Hex(content);
  fake_.PutBlob(digest, content);

  Status s = Fetch(digest, dir_ / "ws1" / "sub" / "numbers.txt");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(dir_ / "ws1" / "sub" / "numbers.txt"), content);
  EXPECT_TRUE(artifacts_->cache().Has(digest));
  EXPECT_GE(LamportNow(), 2000u);  // the fake's chunks carry lamport 2000

  // Served from the cache: no second download.
  s = Fetch(digest, dir_ / "ws2" / "numbers.txt");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(dir_ / "ws2" / "numbers.txt"), content);
  EXPECT_EQ(fake_.fetches(), 1);
}

TEST_F(RemoteArtifactsTest, ConcurrentFetchesOfOneBlobShareOneDownload) {
  const std::string content(300000, 'x');
  const std::string digest = Sha256Hex(content);
  fake_.PutBlob(digest, content);
  constexpr int kFetches = 5;
  std::vector<std::promise<Status>> done(kFetches);
  asio::post(io_, [&] {
    for (int i = 0; i < kFetches; ++i) {
      artifacts_->Fetch(digest, dir_ / ("ws" + std::to_string(i)) / "f",
                        [&, i](Status s) { done[i].set_value(s); });
    }
  });
  for (int i = 0; i < kFetches; ++i) {
    auto f = done[i].get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    Status s = f.get();
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(ReadFile(dir_ / ("ws" + std::to_string(i)) / "f"), content);
  }
  EXPECT_EQ(fake_.fetches(), 1);
}

TEST_F(RemoteArtifactsTest, CorruptBlobFailsWithAClearReasonAndIsNotCached) {
  const std::string digest = Sha256Hex("the real content");
  fake_.PutBlob(digest, "tampered content");
  Status s = Fetch(digest, dir_ / "ws" / "in.txt");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("artifact " + digest + " is corrupt"), std::string::npos)
      << s.message();
  EXPECT_FALSE(artifacts_->cache().Has(digest));
  EXPECT_FALSE(fs::exists(dir_ / "ws" / "in.txt"));
}

TEST_F(RemoteArtifactsTest, MissingBlobAndBadDigestAreErrors) {
  const std::string digest = Sha256Hex("never uploaded");
  Status s = Fetch(digest, dir_ / "ws" / "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not found"), std::string::npos) << s.message();

  s = Fetch("../../etc/passwd", dir_ / "ws" / "y");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("invalid artifact digest"), std::string::npos) << s.message();
}

TEST_F(RemoteArtifactsTest, DamagedCacheEntryIsFetchedAgain) {
  const std::string content = "good bytes";
  const std::string digest = Sha256Hex(content);
  fake_.PutBlob(digest, content);
  ASSERT_TRUE(Fetch(digest, dir_ / "a").ok());
  WriteFile(artifacts_->cache().PathOf(digest), "bit rot");
  Status s = Fetch(digest, dir_ / "b");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(dir_ / "b"), content);
  EXPECT_EQ(fake_.fetches(), 2);
}

TEST_F(RemoteArtifactsTest, WrongTokenIsAnError) {
  worker::RemoteArtifacts wrong(io_, clock_, dir_ / "cache2", coordinators_, "wrong");
  const fs::path file = dir_ / "f";
  WriteFile(file, "data");
  std::promise<Result<std::string>> p;
  asio::post(io_, [&] { wrong.Publish(file, [&](Result<std::string> r) { p.set_value(r); }); });
  auto r = p.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("cannot upload artifact"), std::string::npos) << r.message();
}

// The coordinator is away (restarting) when a transfer starts: with a patience, the transfer
// tries again until a coordinator is back at the same address; without one it fails at once.
class UnreachableCoordinatorTest : public RemoteArtifactsTest {
 protected:
  UnreachableCoordinatorTest()
      : address_(fake_.address()),
        away_coordinators_(
            address_,
            [](const std::string& address) { return worker::MakeCoordinatorChannel(address); }),
        away_(std::make_unique<worker::RemoteArtifacts>(io_, clock_, dir_ / "away-cache",
                                                        away_coordinators_, kToken)) {
    fake_.Shutdown();
    away_->set_retry_observer([this] {
      std::lock_guard<std::mutex> lock(mu_);
      if (retried_) return;
      retried_ = true;
      first_retry_.set_value();
    });
  }
  ~UnreachableCoordinatorTest() override { away_.reset(); }

  bool retried() {
    std::lock_guard<std::mutex> lock(mu_);
    return retried_;
  }
  // Waits for a transfer to have failed once and to be waiting to try again.
  bool WaitForRetry() {
    return first_retry_.get_future().wait_for(std::chrono::seconds(20)) ==
           std::future_status::ready;
  }

  std::string address_;
  rpc::LeaderFollower away_coordinators_;
  std::unique_ptr<worker::RemoteArtifacts> away_;
  std::mutex mu_;
  bool retried_ = false;
  std::promise<void> first_retry_;
};

TEST_F(UnreachableCoordinatorTest, PublishWaitsForTheCoordinatorToComeBack) {
  away_->set_unreachable_patience(std::chrono::seconds(30));
  const fs::path file = dir_ / "out.txt";
  WriteFile(file, "kept through the outage");
  std::promise<Result<std::string>> p;
  asio::post(io_, [&] { away_->Publish(file, [&](Result<std::string> r) { p.set_value(r); }); });
  ASSERT_TRUE(WaitForRetry());
  FakeCoordinator back(kToken, address_);
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  auto digest = f.get();
  ASSERT_TRUE(digest.ok()) << digest.message();
  EXPECT_EQ(back.blobs().count(*digest), 1u);
}

TEST_F(UnreachableCoordinatorTest, FetchWaitsForTheCoordinatorToComeBack) {
  away_->set_unreachable_patience(std::chrono::seconds(30));
  const std::string content = "an input";
  const std::string digest = Sha256Hex(content);
  std::promise<Status> p;
  asio::post(io_, [&] {
    away_->Fetch(digest, dir_ / "ws" / "in.txt", [&](Status s) { p.set_value(s); });
  });
  ASSERT_TRUE(WaitForRetry());
  FakeCoordinator back(kToken, address_);
  back.PutBlob(digest, content);
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  Status s = f.get();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(dir_ / "ws" / "in.txt"), content);
}

TEST_F(UnreachableCoordinatorTest, WithoutPatienceOrOnceToldToStopATransferFails) {
  const fs::path file = dir_ / "out.txt";
  WriteFile(file, "nobody to take it");
  std::promise<Result<std::string>> at_once;
  asio::post(io_,
             [&] { away_->Publish(file, [&](Result<std::string> r) { at_once.set_value(r); }); });
  auto r = at_once.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("cannot upload artifact"), std::string::npos) << r.message();
  EXPECT_FALSE(retried());

  away_->set_unreachable_patience(std::chrono::minutes(10));
  std::promise<Result<std::string>> stopped;
  asio::post(io_,
             [&] { away_->Publish(file, [&](Result<std::string> r) { stopped.set_value(r); }); });
  ASSERT_TRUE(WaitForRetry());
  away_->StopWaiting();  // the worker cancelled the stacks that waited for it
  auto f = stopped.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  r = f.get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("cannot upload artifact"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace hollerith::testing
