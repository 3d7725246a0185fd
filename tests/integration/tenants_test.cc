// Resources and tenants as users meet them: a stack asking for a GPU runs on the worker that has
// one and sees its index in HOLLERITH_GPUS; a request no worker can hold is warned about and
// waits with a reason; a tenant at its quota of placed stacks waits while another tenant runs;
// named credentials see only their own tenants' jobs and may submit only as their tenants.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.h"
#include "tests/support/paths.h"

namespace hollerith::testing {
namespace {

// Polls `done` until it is true; false at the deadline.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// Runs `hollerith status JOB` until its output contains `text`; the last output either way.
std::string WaitForStatus(const TestCluster& cluster, const std::string& job,
                          const std::string& text) {
  std::string last;
  WaitUntil([&] {
    last = cluster.Cli({"status", job}).out;
    return last.find(text) != std::string::npos;
  });
  return last;
}

// A count in protobuf's JSON: a number, or a string for 64-bit fields; 0 when left out.
int64_t Count(const nlohmann::json& object, const std::string& field) {
  if (!object.contains(field)) return 0;
  const auto& v = object.at(field);
  return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<int64_t>();
}

TEST(Tenants, AGpuStackRunsOnTheGpuWorkerAndTooBigARequestWaitsWithAReason) {
  TestCluster cluster({{"gpu", "", {}, {"--resources", "gpu=1"}}, {"plain", "", {}, {}}});
  const std::string dir = cluster.data_dir();
  const std::string one = dir + "/one.yaml";
  std::ofstream(one) << "name: one\nstacks:\n  s:\n    resources: {gpu: 1}\n"
                        "    cards: [{id: c, run: \"echo gpus=$HOLLERITH_GPUS\"}]\n";
  const CommandResult submitted = cluster.Cli({"submit", one});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_EQ(submitted.err.find("warning"), std::string::npos) << submitted.err;
  EXPECT_EQ(cluster.Cli({"watch", "one"}).exit_code, 0);
  const CommandResult logs = cluster.Cli({"logs", "one", "s.c"});
  EXPECT_NE(logs.out.find("gpus=0\n"), std::string::npos) << logs.out << logs.err;

  const std::string two = dir + "/two.yaml";
  std::ofstream(two) << "name: two\nstacks:\n  s:\n    resources: {gpu: 2}\n"
                        "    cards: [{id: c, run: \"true\"}]\n";
  const CommandResult warned = cluster.Cli({"submit", two});
  ASSERT_EQ(warned.exit_code, 0) << warned.err;
  EXPECT_NE(warned.err.find("warning: stack s needs gpu=2"), std::string::npos) << warned.err;
  const std::string status = WaitForStatus(cluster, "two", "waiting: needs gpu=2");
  EXPECT_NE(status.find("waiting: needs gpu=2"), std::string::npos) << status;
  EXPECT_NE(status.find("the most any has: gpu=1"), std::string::npos) << status;
  const nlohmann::json doc =
      nlohmann::json::parse(cluster.Cli({"status", "two", "--json"}).out, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_NE(doc.value("waiting", nlohmann::json::object()).value("s", "").find("needs gpu=2"),
            std::string::npos)
      << doc.dump();
  const CommandResult cancelled = cluster.Cli({"cancel", "two"});
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.err;
}

TEST(Tenants, ATenantAtItsQuotaWaitsWhileAnotherRunsAndNamedCredentialsStayApart) {
  TempDir config;
  const std::string tokens =
      config.Write("named-tokens", "alice:alice-token-0123456789\nbob:bob-token-0123456789ab\n");
  const std::string alice_token = config.Write("alice.token", "alice-token-0123456789\n");
  const std::string bob_token = config.Write("bob.token", "bob-token-0123456789ab\n");
  const std::string tenants = config.Write(
      "tenants.yaml",
      "tenants:\n  ml: {weight: 2, members: [alice], quota: {stacks: 1}}\n  web: {weight: 1}\n");
  TestCluster cluster({{"w", "", {}, {"--slots", "4"}}},
                      {"--tenants", tenants, "--named-token-file", tokens});
  auto as = [&](const std::string& token_file, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kHollerith};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(
        argv, std::chrono::seconds(60),
        {"HOLLERITH_COORDINATOR=" + cluster.address(), "HOLLERITH_TOKEN_FILE=" + token_file});
  };
  const std::string shared = cluster.SharedDir("gates");
  // A card that says it started, then holds its stack until its gate file exists.
  auto held = [&](const std::string& name) {
    return "    cards:\n      - id: c\n        run: echo up > " + shared + "/" + name +
           "-started; while [ ! -f " + shared + "/" + name +
           "-go ]; do sleep 0.05; done\n        timeout: 60s\n";
  };
  const std::string ml = cluster.data_dir() + "/ml.yaml";
  std::ofstream(ml) << "name: mljob\ntenant: ml\nstacks:\n  a:\n"
                    << held("a") << "  b:\n"
                    << held("b");
  const std::string bob = cluster.data_dir() + "/bob.yaml";
  std::ofstream(bob) << "name: bobjob\nstacks:\n  s:\n" << held("bob");

  const CommandResult alice_submit = as(alice_token, {"submit", ml});
  ASSERT_EQ(alice_submit.exit_code, 0) << alice_submit.err;
  const CommandResult bob_submit = as(bob_token, {"submit", bob});
  ASSERT_EQ(bob_submit.exit_code, 0) << bob_submit.err;

  // One of alice's stacks runs, the other waits at the quota; bob's runs beside them.
  auto started = [&](const std::string& name) {
    return std::filesystem::exists(shared + "/" + name + "-started");
  };
  ASSERT_TRUE(WaitUntil([&] { return started("a") || started("b"); }));
  const std::string first = started("a") ? "a" : "b";
  const std::string second = first == "a" ? "b" : "a";
  ASSERT_EQ(WaitForFileLine(shared + "/bob-started"), "up");
  const std::string status = WaitForStatus(cluster, "mljob", "at its quota of stacks=1");
  EXPECT_NE(status.find("waiting: tenant 'ml' is at its quota of stacks=1 (placed at once)"),
            std::string::npos)
      << status;
  EXPECT_FALSE(started(second));

  const CommandResult quota = cluster.Cli({"quota", "--json"});
  ASSERT_EQ(quota.exit_code, 0) << quota.err;
  const nlohmann::json table = nlohmann::json::parse(quota.out, nullptr, false);
  ASSERT_FALSE(table.is_discarded()) << quota.out;
  bool seen_ml = false;
  for (const auto& t : table.value("tenants", nlohmann::json::array())) {
    if (t.value("name", "") != "ml") continue;
    seen_ml = true;
    EXPECT_EQ(Count(t, "placedStacks"), 1) << quota.out;
    EXPECT_EQ(Count(t, "waitingStacks"), 1) << quota.out;
  }
  EXPECT_TRUE(seen_ml) << quota.out;
  const CommandResult table_text = cluster.Cli({"quota"});
  EXPECT_EQ(table_text.exit_code, 0) << table_text.err;
  EXPECT_NE(table_text.out.find("TENANT"), std::string::npos) << table_text.out;

  // Named credentials: bob cannot see alice's job; alice may not submit as a tenant she is not in.
  const CommandResult peek = as(bob_token, {"status", "mljob"});
  EXPECT_EQ(peek.exit_code, 2) << peek.out << peek.err;
  EXPECT_NE(peek.err.find("no job"), std::string::npos) << peek.err;
  const std::string web = cluster.data_dir() + "/web.yaml";
  std::ofstream(web)
      << "name: webjob\ntenant: web\nstacks: {s: {cards: [{id: c, run: \"true\"}]}}\n";
  const CommandResult refused = as(alice_token, {"submit", web});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.err.find("may not submit as tenant"), std::string::npos) << refused.err;
  EXPECT_EQ(as(alice_token, {"status", "mljob"}).exit_code, 0);
  // `workers` (and the web view's cluster page) name the stacks placed on a worker only to those
  // who may see their jobs: bob sees his own stack there, never alice's.
  auto placed_for = [&](const std::string& token_file) {
    const CommandResult r = as(token_file, {"workers", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> out;
    const auto doc = nlohmann::json::parse(r.out, nullptr, false);
    for (const auto& w : doc.value("workers", nlohmann::json::array())) {
      EXPECT_GT(w.value("connected_wall_us", int64_t{0}), 0) << r.out;
      for (const auto& p : w.value("placed_stacks", nlohmann::json::array())) {
        out.insert(p.value("job_name", "") + "/" + p.value("stack", ""));
      }
    }
    return out;
  };
  EXPECT_EQ(placed_for(bob_token), (std::set<std::string>{"bobjob/s"}));
  EXPECT_EQ(placed_for(alice_token), (std::set<std::string>{"mljob/" + first}));

  // Releasing the first stack lets the second be placed; then alice's job succeeds.
  std::ofstream(shared + "/" + first + "-go") << "go";
  ASSERT_EQ(WaitForFileLine(shared + "/" + second + "-started"), "up");
  std::ofstream(shared + "/" + second + "-go") << "go";
  const CommandResult alice_watch = as(alice_token, {"watch", "mljob"});
  EXPECT_EQ(alice_watch.exit_code, 0) << alice_watch.out << alice_watch.err;
  std::ofstream(shared + "/bob-go") << "go";
  const CommandResult bob_watch = as(bob_token, {"watch", "bobjob"});
  EXPECT_EQ(bob_watch.exit_code, 0) << bob_watch.out << bob_watch.err;
}

}  // namespace
}  // namespace hollerith::testing
