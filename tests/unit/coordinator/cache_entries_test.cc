// The coordinator's result cache: only a success reported by the worker holding the stack under
// its current attempt is kept; a later job of the same tenant gets it with its assignment; another
// tenant's job does not; a failure is never kept.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/cache/result_cache.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/coordinator/harness.h"

namespace hollerith::coordinator {
namespace {

constexpr const char* kCached = R"(name: cached
cache: true
stacks:
  A:
    cards:
      - id: a1
        run: make something
)";

class CacheEntriesTest : public ::testing::Test, protected MemoryStoreAndTime, protected Harness {
 protected:
  CacheEntriesTest() : Harness(memory_store_, simulated_time_), artifacts_(dir_.path()) {
    auto entries = ResultCache::Open("", 0);
    EXPECT_TRUE(entries.ok()) << entries.message();
    entries_ = entries->get();
    coordinator_.SetArtifacts(&artifacts_);
    coordinator_.SetResultCache(std::move(entries).value(), "", &artifacts_);
    coordinator_.Start();
  }
  std::string SubmitAs(const std::string& identity) {
    auto spec = std::make_shared<const JobSpec>(*ParseJobSpec(kCached, "test.yaml", SpecLimits{}));
    v1::SubmitJobRequest req;
    req.set_spec(kCached);
    req.set_spec_name("test.yaml");
    v1::SubmitJobResponse resp;
    Owned([&] { EXPECT_TRUE(coordinator_.Submit(spec, req, &resp, identity).ok()); });
    return resp.job_id();
  }
  void Fail(FakeWorker& w, const v1::Assignment& a) {
    v1::WorkerMessage started;
    *started.add_started() = Started(a, 0, w.lamport + 1);
    Send(w, started);
    v1::WorkerMessage finished;
    v1::CardFinished f = Finished(a, 0, w.lamport + 1);
    f.set_succeeded(false);
    f.set_exit_code(1);
    *finished.add_finished() = f;
    Send(w, finished);
  }

  testing::TempDir dir_;
  ArtifactStore artifacts_;
  ResultCache* entries_ = nullptr;
};

TEST_F(CacheEntriesTest, AForgedReportFromAWorkerNotHoldingTheStackIsNotKept) {
  auto x = Connect("x");
  auto y = Connect("y");
  const std::string first = SubmitAs("");
  ASSERT_EQ(x->assignments().size() + y->assignments().size(), 1u);
  FakeWorker& holder = x->assignments().empty() ? *y : *x;
  FakeWorker& other = x->assignments().empty() ? *x : *y;
  const v1::Assignment a = holder.assignments()[0];
  EXPECT_EQ(a.cached_size(), 0) << "nothing is cached yet";
  RunCard(other, a, 0);  // claims a success for a stack it does not hold
  EXPECT_EQ(entries_->stats().entries, 0u);
  RunCard(holder, a, 0);
  EXPECT_EQ(entries_->stats().entries, 1u);
  // The next job of the same tenant gets the result with its assignment, from the first job.
  SubmitAs("");
  std::vector<v1::Assignment> all = x->assignments();
  for (const auto& b : y->assignments()) all.push_back(b);
  ASSERT_EQ(all.size(), 2u);
  const v1::Assignment& second = all[0].job_id() == first ? all[1] : all[0];
  ASSERT_EQ(second.cached_size(), 1);
  EXPECT_EQ(second.cached(0).card(), 0u);
  EXPECT_EQ(second.cached(0).from_job(), first);
  EXPECT_EQ(second.cached(0).stdout_text(), "out of 0");
}

TEST_F(CacheEntriesTest, AnotherTenantsEntryIsNotUsedAndAFailureIsNeverKept) {
  auto x = Connect("x");
  SubmitAs("alice");
  RunCard(*x, x->assignments()[0], 0);
  EXPECT_EQ(entries_->stats().entries, 1u);
  const std::string bobs = SubmitAs("bob");
  ASSERT_EQ(x->assignments().size(), 2u);
  EXPECT_EQ(x->assignments()[1].cached_size(), 0) << "alice's entry is not bob's";
  const v1::JobStatus status = JobStatusOf(bobs);
  EXPECT_NE(status.result_json().find("miss: no entry for this card yet"), std::string::npos)
      << status.result_json();
  Fail(*x, x->assignments()[1]);
  EXPECT_EQ(entries_->stats().entries, 1u) << "bob's failure is not kept";
  SubmitAs("bob");
  ASSERT_EQ(x->assignments().size(), 3u);
  EXPECT_EQ(x->assignments()[2].cached_size(), 0);
}

}  // namespace
}  // namespace hollerith::coordinator
