// Client::SubmitAndWatch against real daemons: one call submits the job and streams its events to
// the end, the same events a Watch of the finished job replays; a refused spec is an error with
// its place in the file; a key submitted again streams the first job; and a coordinator killed
// mid-stream is ridden through (the client watches on once it is back, skipping nothing and
// repeating nothing).
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "cli/client/client.h"
#include "tests/support/cluster.h"

namespace hollerith::testing {
namespace {

constexpr char kTwoStacks[] = R"(name: pair
stacks:
  A:
    cards:
      - {id: one, run: echo one}
  B:
    cards:
      - {id: two, after: [A.one], run: echo two}
)";

// What a JobEvent says, for comparing two streams of the same job.
std::string Describe(const v1::JobEvent& ev) {
  return std::to_string(ev.lamport()) + " " + ev.kind() + " " + ev.stack() + " " + ev.card();
}

// Every event a Watch of the (finished) job replays.
std::vector<std::string> Replay(Client& client, const std::string& job) {
  std::vector<std::string> seen;
  std::promise<Status> done;
  auto watch = client.Watch(
      job, 0, [&](const v1::JobEvent& ev) { seen.push_back(Describe(ev)); },
      [&](const Status& s) { done.set_value(s); });
  EXPECT_TRUE(done.get_future().get().ok());
  watch->Join();
  return seen;
}

TEST(SubmitAndWatch, OneCallStreamsTheJobToItsEndAsAWatchWould) {
  TestCluster cluster({{"x"}, {"y"}});
  Client client(cluster.address(), cluster.Token());
  int submitted_calls = 0;
  std::vector<std::string> seen;
  auto job = client.SubmitAndWatch(
      kTwoStacks, "pair.yaml", NewIdempotencyKey(), "",
      [&](const SubmittedJob& j) {
        ++submitted_calls;
        EXPECT_TRUE(seen.empty()) << "accepted before any event";
        EXPECT_FALSE(j.job_id.empty());
      },
      [&](const v1::JobEvent& ev) { seen.push_back(Describe(ev)); });
  ASSERT_TRUE(job.ok()) << job.message();
  EXPECT_EQ(submitted_calls, 1);
  EXPECT_FALSE(job->existing);
  ASSERT_FALSE(seen.empty());
  EXPECT_NE(seen.back().find("job_finished"), std::string::npos) << seen.back();
  EXPECT_EQ(seen, Replay(client, job->job_id));
  auto status = client.GetJob(job->job_id);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(status->state(), "succeeded");
}

TEST(SubmitAndWatch, ARefusedSpecIsAnErrorNamingItsPlace) {
  TestCluster cluster({{"x"}});
  Client client(cluster.address(), cluster.Token());
  bool accepted = false;
  auto job = client.SubmitAndWatch(
      "name: bad\nstacks:\n  A:\n    cards:\n      - {id: a, after: [Z.q], run: 'true'}\n",
      "bad.yaml", NewIdempotencyKey(), "", [&](const SubmittedJob&) { accepted = true; }, {});
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.message().find("bad.yaml:"), std::string::npos) << job.message();
  EXPECT_NE(job.message().find("Z.q"), std::string::npos) << job.message();
  EXPECT_FALSE(accepted);
  Client wrong(cluster.address(), "wrong-token");
  auto refused = wrong.SubmitAndWatch(kTwoStacks, "pair.yaml", NewIdempotencyKey(), "", {}, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("credential"), std::string::npos) << refused.message();
}

TEST(SubmitAndWatch, TheSameKeyAgainStreamsTheFirstJob) {
  TestCluster cluster({{"x"}, {"y"}});
  Client client(cluster.address(), cluster.Token());
  const std::string key = NewIdempotencyKey();
  auto first = client.SubmitAndWatch(kTwoStacks, "pair.yaml", key, "", {}, {});
  ASSERT_TRUE(first.ok()) << first.message();
  std::vector<std::string> seen;
  auto again = client.SubmitAndWatch(kTwoStacks, "pair.yaml", key, "", {},
                                     [&](const v1::JobEvent& ev) { seen.push_back(Describe(ev)); });
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_TRUE(again->existing);
  EXPECT_EQ(again->job_id, first->job_id);
  EXPECT_EQ(seen, Replay(client, first->job_id));
}

TEST(SubmitAndWatch, ACoordinatorKilledMidStreamIsRiddenThroughWithoutLosingOrRepeatingEvents) {
  TestCluster cluster({{"x"}, {"y"}});
  const std::string gate = cluster.SharedDir("gate") + "/go";
  const std::string spec = std::string(R"(name: gated
stacks:
  A:
    cards:
      - {id: one, run: echo one}
      - id: wait
        run: sh -c 'while [ ! -f )") +
                           gate + R"( ]; do sleep 0.05; done; echo waited'
        timeout: 60s
  B:
    cards:
      - {id: after, after: [A.wait], run: echo after}
)";
  Client client(cluster.address(), cluster.Token());
  std::mutex mu;
  std::condition_variable cv;
  bool waiting = false;  // A.wait started: the stream is live mid-job
  std::vector<std::string> seen;
  auto call = std::async(std::launch::async, [&] {
    return client.SubmitAndWatch(spec, "gated.yaml", NewIdempotencyKey(), "", {},
                                 [&](const v1::JobEvent& ev) {
                                   std::lock_guard lock(mu);
                                   seen.push_back(Describe(ev));
                                   if (ev.kind() == "card_started" && ev.card() == "A.wait") {
                                     waiting = true;
                                     cv.notify_all();
                                   }
                                 });
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return waiting; }))
        << "A.wait never started; events: " << ::testing::PrintToString(seen);
  }
  // A running job's events reach watchers before its journal is committed (within 2 ms); a job's
  // end commits everything journaled before it. So once this one has ended, every event the
  // stream delivered is durable, and the coordinator back from SIGKILL replays them alike.
  auto barrier = client.SubmitAndWatch(kTwoStacks, "pair.yaml", NewIdempotencyKey(), "", {}, {});
  ASSERT_TRUE(barrier.ok()) << barrier.message();
  cluster.RestartCoordinator(SIGKILL);
  std::ofstream(gate) << "go";
  ASSERT_EQ(call.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  auto job = call.get();
  ASSERT_TRUE(job.ok()) << job.message();
  std::lock_guard lock(mu);
  ASSERT_FALSE(seen.empty());
  EXPECT_NE(seen.back().find("job_finished"), std::string::npos) << seen.back();
  EXPECT_EQ(seen, Replay(client, job->job_id));
}

}  // namespace
}  // namespace hollerith::testing
