// rpc::LeaderFollower, the list of coordinators a worker or client follows: a standby's answer
// moves it to the leader named; an unreachable coordinator (or a standby that knows no leader) to
// the next address; after a followed leader is gone, back to the list. No connection is made:
// only which address each step picks.
#include <gtest/gtest.h>

#include "proto/rpc_leader.h"

namespace hollerith::rpc {
namespace {

const grpc::Status kUnreachable(grpc::StatusCode::UNAVAILABLE, "connection refused");

LeaderFollower Follower(const std::string& list) {
  return LeaderFollower(list, [](const std::string& address) {
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  });
}

TEST(SplitAddresses, ListsWithSpacesAndRefusesEmptyEntries) {
  auto list = SplitAddresses("a:1, b:2 ,c:3");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_FALSE(SplitAddresses("a:1,,b:2").ok());
  EXPECT_FALSE(SplitAddresses("").ok());
}

TEST(LeaderFollower, AStandbyMovesItToTheLeaderItNames) {
  auto f = Follower("a:1,b:2");
  EXPECT_EQ(f.address(), "a:1");
  EXPECT_EQ(f.AfterFailure("a:1", kUnreachable, std::string("b:2")), "b:2");
  EXPECT_EQ(f.address(), "b:2");
  // Any other failure is the leader's answer: nothing to follow.
  const grpc::Status refused(grpc::StatusCode::INVALID_ARGUMENT, "bad spec");
  EXPECT_EQ(f.AfterFailure("b:2", refused, std::nullopt), std::nullopt);
  EXPECT_EQ(f.address(), "b:2");
}

TEST(LeaderFollower, AnUnreachableOneSendsItToTheNextAddress) {
  auto f = Follower("a:1,b:2,c:3");
  EXPECT_EQ(f.AfterFailure("a:1", kUnreachable, std::nullopt), "b:2");
  EXPECT_EQ(f.AfterFailure("b:2", kUnreachable, std::string()), "c:3");  // knows no leader
  EXPECT_EQ(f.AfterFailure("c:3", kUnreachable, std::nullopt), "a:1");
  // A late failure of a call that used an address given up already changes nothing.
  EXPECT_EQ(f.AfterFailure("c:3", kUnreachable, std::nullopt), "a:1");
  EXPECT_EQ(f.address(), "a:1");
}

TEST(LeaderFollower, AfterAFollowedLeaderIsGoneItGoesBackToTheList) {
  auto f = Follower("standby:1");
  EXPECT_EQ(f.AfterFailure("standby:1", kUnreachable, std::string("leader:2")), "leader:2");
  EXPECT_EQ(f.AfterFailure("leader:2", kUnreachable, std::nullopt), "standby:1");
  // One address: unreachable is the caller's to report; a standby without a leader is asked
  // again.
  EXPECT_EQ(f.AfterFailure("standby:1", kUnreachable, std::nullopt), std::nullopt);
  EXPECT_EQ(f.AfterFailure("standby:1", kUnreachable, std::string()), "standby:1");
}

// Seen from outside a container network, a standby names the leader by a name only that network
// resolves: with a list of other names, the list is tried instead.
TEST(LeaderFollower, ALeaderNamedOutsideTheListIsLookedForInTheList) {
  auto f = Follower("127.0.0.1:7070,127.0.0.1:7071");
  EXPECT_EQ(f.AfterFailure("127.0.0.1:7070", kUnreachable, std::string("coordinator-b:7070")),
            "127.0.0.1:7071");
  // With one address, the name is all there is to try.
  auto one = Follower("coordinators.example:7070");
  EXPECT_EQ(
      one.AfterFailure("coordinators.example:7070", kUnreachable, std::string("10.0.0.7:7070")),
      "10.0.0.7:7070");
}

TEST(LeaderFollower, StubsStayValidAcrossSwitches) {
  auto f = Follower("a:1,b:2");
  v1::Coordinator::Stub* first = &f.stub();
  f.AfterFailure("a:1", kUnreachable, std::nullopt);
  EXPECT_NE(&f.stub(), first);
  f.AfterFailure("b:2", kUnreachable, std::nullopt);
  EXPECT_EQ(&f.stub(), first);  // the same stub (and channel) for the same address
}

}  // namespace
}  // namespace hollerith::rpc
