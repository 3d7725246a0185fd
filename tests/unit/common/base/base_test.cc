#include <gtest/gtest.h>

#include <vector>

#include "common/base/hex.h"
#include "common/base/listen_address.h"
#include "common/base/simulated_time.h"
#include "common/base/status.h"

namespace hollerith {
namespace {

using namespace std::chrono_literals;

TEST(Status, CarriesCodeAndMessage) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().code(), StatusCode::kOk);
  Status s = Status::NotFound("no job 'x'");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no job 'x'");
  EXPECT_EQ(Status::Error("plain").code(), StatusCode::kUnknown);
  // An error can never carry the ok code: it would read as success.
  EXPECT_FALSE(Status::Error(StatusCode::kOk, "oops").ok());
  Result<int> r = Status::Unavailable("down");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_STREQ(StatusCodeName(StatusCode::kFailedPrecondition), "failed precondition");
}

TEST(Hex, EncodesEveryByteLowerCase) {
  EXPECT_EQ(HexEncode(std::string_view("\x00\x0f\xa0\xff", 4)), "000fa0ff");
  EXPECT_EQ(HexEncode(""), "");
}

TEST(ListenAddress, PortAloneIsLoopbackAndIPv6LosesItsBrackets) {
  auto port = ParseListenAddress("7080", "web view address");  // parsed only, never bound
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(port->host, "127.0.0.1");
  EXPECT_EQ(port->port, 7080);
  auto any = ParseListenAddress("0.0.0.0:0", "x");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->host, "0.0.0.0");
  EXPECT_EQ(any->port, 0);
  auto v6 = ParseListenAddress("[::1]:80", "x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->HostPort(), "[::1]:80");
  EXPECT_EQ(any->HostPort(), "0.0.0.0:0");
}

TEST(ListenAddress, BadAddressesNameWhatTheyAre) {
  for (const char* bad : {"host:", ":80", "127.0.0.1:70000", "127.0.0.1:8x", "[::1:80", "::1]:80",
                          "[]:80", "-1", ""}) {
    auto a = ParseListenAddress(bad, "metrics address");
    EXPECT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(a.message().starts_with(std::string("bad metrics address '") + bad + "': "))
        << a.message();
  }
}

// Addresses are only classified here, never bound.
TEST(ListenAddress, LoopbackIsOnlyThisMachine) {
  for (const char* local : {"127.0.0.1:80", "127.9.8.7:0", "[::1]:80", "localhost:80", "unix:/x"}) {
    EXPECT_TRUE(IsLoopbackAddress(local)) << local;
  }
  for (const char* remote : {"0.0.0.0:80", "10.0.0.1:80", "[::]:80", "example.org:80", "[::2]:1"}) {
    EXPECT_FALSE(IsLoopbackAddress(remote)) << remote;
  }
}

TEST(ListenAddress, PlainHttpBeyondLoopbackNeedsInsecurePlaintext) {
  for (const char* local : {"7080", "127.0.0.1:0", "[::1]:0", ""}) {
    auto ok = CheckPlainHttpListen("--http-listen", local, /*insecure_plaintext=*/false);
    ASSERT_TRUE(ok.ok()) << local;
    EXPECT_FALSE(*ok) << local;
  }
  auto refused = CheckPlainHttpListen("--http-listen", "0.0.0.0:7080", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      refused.message().starts_with("refusing --http-listen 0.0.0.0:7080: it is plain HTTP"))
      << refused.message();
  EXPECT_NE(refused.message().find("--insecure-plaintext"), std::string::npos);
  auto allowed = CheckPlainHttpListen("--http-listen", "0.0.0.0:7080", true);
  ASSERT_TRUE(allowed.ok());
  EXPECT_TRUE(*allowed) << "listens beyond loopback: the caller warns";
}

TEST(SimulatedTime, FiresDueTimersInDeadlineOrderWithTheClockAtEachDeadline) {
  SimulatedTime time;
  const MonotonicTime start = time.Now();
  std::vector<std::pair<int, std::chrono::milliseconds>> fired;
  auto a = time.CreateTimer(), b = time.CreateTimer(), c = time.CreateTimer();
  auto at = [&](int id) {
    return [&, id] {
      fired.emplace_back(id,
                         std::chrono::duration_cast<std::chrono::milliseconds>(time.Now() - start));
    };
  };
  a->Arm(30ms, at(1));
  b->Arm(10ms, at(2));
  c->Arm(20ms, at(3));
  c->Cancel();
  EXPECT_EQ(time.Advance(25ms), 1u);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], std::make_pair(2, 10ms));
  EXPECT_EQ(time.Now() - start, 25ms);
  b->Arm(1ms, at(4));  // re-armed from its own callback's past: relative to now
  b->Arm(2ms, at(5));  // re-arming replaces
  EXPECT_EQ(time.Advance(10ms), 2u);
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[1], std::make_pair(5, 27ms));
  EXPECT_EQ(fired[2], std::make_pair(1, 30ms));
  EXPECT_EQ(time.armed(), 0u);
}

TEST(SimulatedTime, ATimerArmedFromACallbackFiresInTheSameAdvanceWhenDue) {
  SimulatedTime time;
  auto t = time.CreateTimer();
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    t->Arm(10ms, tick);
  };
  t->Arm(10ms, tick);
  EXPECT_EQ(time.Advance(35ms), 3u);
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(time.WallMicros() - SimulatedTime().WallMicros(), 35'000);
}

TEST(SimulatedTime, ADestroyedTimerNeverFires) {
  SimulatedTime time;
  bool fired = false;
  {
    auto t = time.CreateTimer();
    t->Arm(1ms, [&] { fired = true; });
  }
  EXPECT_EQ(time.Advance(1s), 0u);
  EXPECT_FALSE(fired);
}

}  // namespace
}  // namespace hollerith
