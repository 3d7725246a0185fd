// Prometheus metrics of a real cluster: a coordinator and two workers with --metrics-listen on
// port 0, scraped over loopback before, during and after a job; the counters and gauges must move
// as the job does.
#include <gtest/gtest.h>

#include <chrono>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/cluster.h"
#include "tests/support/http_get.h"

namespace hollerith::testing {
namespace {

std::string Token(const TestCluster& cluster) { return cluster.Token(); }

TEST(Metrics, BothEndpointsScrapeAndMoveWithTheJob) {
  const std::vector<std::string> metrics = {"--metrics-listen", "127.0.0.1:0"};
  TestCluster cluster({{"x", "", {}, {"--metrics-listen", "0"}}, {"y", "", {}, metrics}}, metrics);
  const std::string coordinator = cluster.CoordinatorLine("metrics on ");
  const std::string x = cluster.WorkerLine("x", "metrics on ");
  const std::string y = cluster.WorkerLine("y", "metrics on ");
  ASSERT_EQ(coordinator.rfind("http://127.0.0.1:", 0), 0u) << coordinator;
  ASSERT_EQ(x.rfind("http://127.0.0.1:", 0), 0u) << x;  // a port alone listens on loopback
  ASSERT_EQ(y.rfind("http://127.0.0.1:", 0), 0u) << y;
  ASSERT_NE(x, y);
  // Scrapes authenticate with the cluster token (basic auth password).
  const std::string token = Token(cluster);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(HttpGet(coordinator).status, 401);
  EXPECT_EQ(HttpGet(x, "not the token").status, 401);
  // Prometheus' default `authorization` block sends the token as a bearer token.
  EXPECT_EQ(HttpGetAuthorized(coordinator, "Bearer " + token).status, 200);
  EXPECT_EQ(HttpGetAuthorized(x, "Bearer " + token).status, 200);
  EXPECT_EQ(HttpGetAuthorized(coordinator, "Bearer not-the-token").status, 401);
  EXPECT_EQ(HttpGetAuthorized(coordinator, "Token " + token).status, 401);
  auto Scrape = [&](const std::string& url) {
    HttpResponse r = HttpGet(url, token);
    EXPECT_EQ(r.status, 200) << url;
    return r.body;
  };

  std::string c = Scrape(coordinator);
  EXPECT_EQ(Series(c, "hollerith_workers_connected"), 2) << c;
  EXPECT_EQ(Series(c, R"(hollerith_jobs{state="running"})"), 0) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards{state="succeeded"})"), 0) << c;
  EXPECT_EQ(Series(c, "hollerith_dependency_release_latency_seconds_count"), 0) << c;
  EXPECT_EQ(Series(c, "hollerith_jobs_submitted_total"), 0) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards_finished_total{state="succeeded"})"), 0) << c;
  EXPECT_EQ(Series(c, "hollerith_dependency_releases_total"), 0) << c;
  std::string wx = Scrape(x);
  EXPECT_EQ(Series(wx, "hollerith_worker_slots"), 2) << wx;
  EXPECT_EQ(Series(wx, "hollerith_worker_slots_busy"), 0) << wx;
  EXPECT_EQ(Series(wx, "hollerith_worker_card_run_seconds_count"), 0) << wx;

  // A.hold runs on x until the test opens the gate; B.use (on y) needs its file, so the release
  // and the artifact cross the cluster.
  const std::string started = cluster.SharedDir("marks") + "/started";  // cards may run as nobody
  const std::string gate = cluster.data_dir() + "/gate";
  const std::string spec = cluster.data_dir() + "/m.yaml";
  std::ofstream(spec) << "name: measured\nstacks:\n  A:\n    node: x\n    cards:\n"
                         "      - id: hold\n        run: sh -c 'echo 12345 > data.txt; echo up > "
                      << started << "; while [ ! -e " << gate
                      << " ]; do sleep 0.05; done'\n"
                         "        outputs: [data.txt]\n"
                         "      - {id: two, run: echo two}\n"
                         "  B:\n    node: y\n    cards:\n"
                         "      - id: use\n        inputs: [A.hold:data.txt]\n"
                         "        run: cat data.txt\n"
                         "      - {id: nap, builtin: noop}\n";
  auto submit = cluster.Cli({"submit", spec});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  ASSERT_EQ(WaitForFileLine(started), "up");

  // During: A.hold runs, the rest waits. The card's mark can come before its worker's report of
  // the start reaches the coordinator: scrape until the coordinator has it (with a deadline).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    c = Scrape(coordinator);
  } while (Series(c, R"(hollerith_cards{state="running"})") != 1 &&
           std::chrono::steady_clock::now() < until);
  EXPECT_EQ(Series(c, R"(hollerith_jobs{state="running"})"), 1) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards{state="running"})"), 1) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards{state="pending"})"), 3) << c;
  EXPECT_GE(Series(c, "hollerith_placement_wait_seconds_count"), 2) << c;
  wx = Scrape(x);
  EXPECT_EQ(Series(wx, "hollerith_worker_slots_busy"), 1) << wx;
  EXPECT_EQ(Series(Scrape(y), "hollerith_worker_slots_busy"), 0);

  std::ofstream(gate) << "go";
  auto watch = cluster.Cli({"watch", "measured"});
  ASSERT_EQ(watch.exit_code, 0) << watch.out << watch.err;

  c = Scrape(coordinator);  // after
  EXPECT_EQ(Series(c, R"(hollerith_jobs{state="running"})"), 0) << c;
  EXPECT_EQ(Series(c, R"(hollerith_jobs{state="succeeded"})"), 1) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards{state="succeeded"})"), 4) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards{state="running"})"), 0) << c;
  EXPECT_GE(Series(c, "hollerith_dependency_release_latency_seconds_count"), 1) << c;
  EXPECT_GT(Series(c, "hollerith_store_commit_seconds_count"), 0) << c;
  EXPECT_GT(Series(c, R"(hollerith_artifact_bytes_total{direction="received"})"), 0) << c;
  EXPECT_GT(Series(c, R"(hollerith_artifact_bytes_total{direction="sent"})"), 0) << c;
  EXPECT_EQ(Series(c, "hollerith_leases_expired_total"), 0) << c;
  EXPECT_EQ(Series(c, "hollerith_jobs_submitted_total"), 1) << c;
  EXPECT_EQ(Series(c, R"(hollerith_jobs_finished_total{state="succeeded"})"), 1) << c;
  EXPECT_EQ(Series(c, R"(hollerith_jobs_finished_total{state="failed"})"), 0) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards_finished_total{state="succeeded"})"), 4) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards_finished_total{state="skipped"})"), 0) << c;
  // A.hold -> B.use (the input) is the one cross-stack edge.
  EXPECT_EQ(Series(c, "hollerith_dependency_releases_total"), 1) << c;

  // Each worker's run-time histogram counts exactly the cards that ran there.
  auto doc = nlohmann::json::parse(cluster.Cli({"status", "measured", "--json"}).out);
  std::map<std::string, double> ran;
  for (const auto& [name, card] : doc["cards"].items()) ran[card["node"].get<std::string>()] += 1;
  ASSERT_EQ(ran["x"], 2) << doc.dump();
  ASSERT_EQ(ran["y"], 2) << doc.dump();
  wx = Scrape(x);
  const std::string wy = Scrape(y);
  EXPECT_EQ(Series(wx, "hollerith_worker_card_run_seconds_count"), ran["x"]) << wx;
  EXPECT_EQ(Series(wy, "hollerith_worker_card_run_seconds_count"), ran["y"]) << wy;
  EXPECT_EQ(Series(wx, "hollerith_worker_slots_busy"), 0) << wx;
  EXPECT_EQ(Series(wx, "hollerith_worker_card_spawn_seconds_count"), 2) << wx;  // two processes
  EXPECT_EQ(Series(wy, "hollerith_worker_card_spawn_seconds_count"), 1) << wy;  // and a built-in
  EXPECT_GT(Series(wx, R"(hollerith_worker_artifact_bytes_total{direction="uploaded"})"), 0) << wx;
  EXPECT_GT(Series(wy, R"(hollerith_worker_artifact_bytes_total{direction="fetched"})"), 0) << wy;
  EXPECT_EQ(Series(wy, R"(hollerith_worker_artifact_transfer_seconds_count{direction="fetched"})"),
            1)
      << wy;
}

TEST(Metrics, CountersSayHowCardsAndJobsEnded) {
  const std::vector<std::string> metrics = {"--metrics-listen", "127.0.0.1:0"};
  TestCluster cluster({{"x", "", {}, {}}}, metrics);
  const std::string coordinator = cluster.CoordinatorLine("metrics on ");
  const std::string token = Token(cluster);
  // failing.yaml: A.check fails after its retry; B.publish, B.archive and the combine are skipped;
  // A.build, B.prepare and C.independent succeed.
  auto r = cluster.Cli(
      {"submit", std::string(HOLLERITH_SOURCE_DIR) + "/examples/failing.yaml", "--wait"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  const HttpResponse scraped = HttpGetAuthorized(coordinator, "Bearer " + token);
  ASSERT_EQ(scraped.status, 200);
  const std::string& c = scraped.body;
  EXPECT_EQ(Series(c, R"(hollerith_jobs_finished_total{state="failed"})"), 1) << c;
  EXPECT_EQ(Series(c, R"(hollerith_jobs_finished_total{state="succeeded"})"), 0) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards_finished_total{state="failed"})"), 1) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards_finished_total{state="skipped"})"), 3) << c;
  EXPECT_EQ(Series(c, R"(hollerith_cards_finished_total{state="succeeded"})"), 3) << c;
}

// Whether `exposition` has a series named exactly `name` (`name{...} v` or `name v`).
bool Exports(const std::string& exposition, const std::string& name) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) == 0 && line.size() > name.size() &&
        (line[name.size()] == '{' || line[name.size()] == ' '))
      return true;
  }
  return false;
}

TEST(Metrics, TheGrafanaDashboardNamesOnlyExportedMetrics) {
  std::ifstream in(std::string(HOLLERITH_SOURCE_DIR) + "/deploy/grafana/hollerith-dashboard.json");
  ASSERT_TRUE(in) << "deploy/grafana/hollerith-dashboard.json is missing";
  const nlohmann::json dashboard = nlohmann::json::parse(in);
  ASSERT_TRUE(dashboard["panels"].is_array());
  // Every query of every panel, and the metrics they name.
  std::set<std::string> named;
  std::set<std::string> titles;
  const std::regex metric("hollerith_[a-z0-9_]+");
  for (const auto& panel : dashboard["panels"]) {
    titles.insert(panel.value("title", ""));
    ASSERT_FALSE(panel["targets"].empty()) << panel.dump();
    for (const auto& target : panel["targets"]) {
      const std::string expr = target.value("expr", "");
      ASSERT_FALSE(expr.empty()) << panel.dump();
      for (std::sregex_iterator m(expr.begin(), expr.end(), metric), end; m != end; ++m) {
        named.insert(m->str());
      }
    }
  }
  // The main panels the dashboard is for.
  for (const char* title : {"Throughput: cards finished per second", "Dependency release latency",
                            "Workers connected", "Queue depth: cards waiting"}) {
    EXPECT_TRUE(titles.count(title)) << title;
  }
  ASSERT_GE(named.size(), 10u);

  const std::vector<std::string> metrics = {"--metrics-listen", "127.0.0.1:0"};
  TestCluster cluster({{"x", "", {}, metrics}}, metrics);
  const std::string token = Token(cluster);
  const HttpResponse c =
      HttpGetAuthorized(cluster.CoordinatorLine("metrics on "), "Bearer " + token);
  const HttpResponse w =
      HttpGetAuthorized(cluster.WorkerLine("x", "metrics on "), "Bearer " + token);
  ASSERT_EQ(c.status, 200);
  ASSERT_EQ(w.status, 200);
  for (const std::string& name : named) {
    EXPECT_TRUE(Exports(c.body, name) || Exports(w.body, name))
        << "the dashboard names " << name << ", which no daemon exports";
  }
}

TEST(Metrics, ABadAddressIsRefusedWithAClearError) {
  TempDir dir;
  auto r = RunCommand({HOLLERITH_COORDINATOR_PATH, "--listen", "127.0.0.1:0", "--data-dir",
                       dir.path() + "/c", "--metrics-listen", "nope:port"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad metrics address 'nope:port'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hollerith::testing
