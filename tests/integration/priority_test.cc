// `priority:` as users meet it: on a worker with one slot, the cards of a job with a higher
// priority take the slot before the waiting cards of a job submitted earlier; `status` shows it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/cluster.h"
#include "tests/support/http_get.h"

namespace hollerith::testing {
namespace {

// Scrapes `url` until `series` reads `value`; false at the deadline.
bool WaitForSeries(const std::string& url, const std::string& token, const std::string& series,
                   double value) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Series(HttpGet(url, token).body, series) == value) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(Priority, AHigherPriorityJobsCardsTakeTheSlotFirst) {
  TestCluster cluster({{"w", "", {}, {"--slots", "1", "--metrics-listen", "127.0.0.1:0"}}});
  const std::string metrics = cluster.WorkerLine("w", "metrics on ");
  ASSERT_EQ(metrics.rfind("http://127.0.0.1:", 0), 0u) << metrics;
  const std::string shared = cluster.SharedDir("order");
  const std::string order = shared + "/order";
  const std::string gate = shared + "/gate";
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = cluster.data_dir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  };
  // low's first card holds the only slot until the gate opens; its other three wait.
  std::ostringstream low;
  low << "name: low\nstacks:\n  gate:\n    cards:\n      - id: hold\n        run: touch " << shared
      << "/holding; while [ ! -f " << gate << " ]; do sleep 0.05; done\n        timeout: 60s\n";
  for (int i = 1; i <= 3; ++i) {
    low << "  l" << i << ":\n    cards: [{id: c, run: \"echo low >> " << order << "\"}]\n";
  }
  std::ostringstream high;
  high << "name: high\npriority: 5\nstacks:\n";
  for (int i = 1; i <= 2; ++i) {
    high << "  h" << i << ":\n    cards: [{id: c, run: \"echo high >> " << order << "\"}]\n";
  }
  ASSERT_EQ(cluster.Cli({"submit", write("low.yaml", low.str())}).exit_code, 0);
  const std::string token = cluster.Token();
  ASSERT_TRUE(WaitForSeries(metrics, token, "hollerith_worker_cards_waiting", 3));
  ASSERT_EQ(cluster.Cli({"submit", write("high.yaml", high.str())}).exit_code, 0);
  ASSERT_TRUE(WaitForSeries(metrics, token, "hollerith_worker_cards_waiting", 5));
  std::ofstream(gate) << "go";
  EXPECT_EQ(cluster.Cli({"watch", "low"}).exit_code, 0);
  EXPECT_EQ(cluster.Cli({"watch", "high"}).exit_code, 0);
  std::ifstream in(order);
  const std::string ran((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(ran, "high\nhigh\nlow\nlow\nlow\n");
  const CommandResult status = cluster.Cli({"status", "high"});
  EXPECT_NE(status.out.find("priority: 5"), std::string::npos) << status.out;
}

TEST(Priority, ABadPriorityIsAnErrorAtItsLine) {
  TestCluster cluster({});
  const std::string spec = cluster.data_dir() + "/bad.yaml";
  std::ofstream(spec) << "name: bad\npriority: 5000\nstacks: {a: {cards: [{id: c, run: x}]}}\n";
  const CommandResult r = cluster.Cli({"submit", spec});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(":2:11: 'priority' must be a whole number from -1000 to 1000, not '5000'"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace hollerith::testing
