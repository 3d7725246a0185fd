// The coordinator's web view in a real browser: a coordinator and two workers as real processes
// (the web view on 127.0.0.1:0), a job whose card B.wait waits for a file, and headless Chromium
// (Debian's, driven by playwright-core: job_page.mjs) opening the job page. The browser must be
// sent to the login form, log in with the token, see B.wait running, and only then create the file;
// then see B.wait turn succeeded without a reload, the DAG with a box per card and an arrow per
// cross-stack dependency, the card's output, and save a screenshot
// (build/test-artifacts/job-page.png).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace hollerith::testing {
namespace {

// Two stacks and a combine. Boxes: A.fetch, A.sum, B.wait, B.double, combine = 5. Cross-stack
// arrows (distinct producer -> consumer pairs of `after` and `inputs`): B.double <- A.sum (after),
// B.double <- A.fetch (input), and the combine card's implicit ones: the last card of each stack
// (A.sum, B.double) and every declared output (A.fetch's numbers.txt) = 5.
std::string Spec(const std::string& go_file) {
  return "name: webview\n"
         "stacks:\n"
         "  A:\n"
         "    cards:\n"
         "      - id: fetch\n"
         "        run: sh -c 'seq 1 10 > numbers.txt'\n"
         "        outputs: [numbers.txt]\n"
         "      - id: sum\n"
         "        run: awk '{s+=$1} END {print s}' numbers.txt\n"
         "  B:\n"
         "    cards:\n"
         "      - id: wait\n"
         "        run: sh -c 'while [ ! -e " +
         go_file +
         " ]; do sleep 0.05; done; echo hello from B.wait'\n"
         "        timeout: 90s\n"
         "      - id: double\n"
         "        after: [A.sum]\n"
         "        inputs: [A.fetch:numbers.txt]\n"
         "        run: awk '{s+=2*$1} END {print s}' numbers.txt\n"
         "combine:\n"
         "  run: sh -c 'cat results/A.sum.stdout results/B.double.stdout'\n";
}

TEST(WebViewBrowser, JobPageGoesLiveFromRunningToSucceeded) {
  TempDir dir;
  TestCluster cluster({{"x"}, {"y"}});
  ASSERT_FALSE(cluster.web_url().empty());
  const std::string go_file = dir.path() + "/go";
  const std::string spec = dir.path() + "/webview.yaml";
  std::ofstream(spec) << Spec(go_file);
  CommandResult submitted = cluster.Cli({"submit", spec});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const std::string job = submitted.out.substr(0, submitted.out.find('\n'));

  const std::string artifacts = HOLLERITH_ARTIFACT_DIR;
  std::filesystem::create_directories(artifacts);
  const std::string screenshot = artifacts + "/job-page.png";
  std::filesystem::remove(screenshot);
  CommandResult browser = RunCommand(
      {"node", HOLLERITH_BROWSER_DIR "/job_page.mjs"}, std::chrono::seconds(120),
      {"WEB_URL=" + cluster.web_url(), "JOB_ID=" + job, "TOKEN_FILE=" + cluster.token_file(),
       "WAIT_CARD=B.wait", "GO_FILE=" + go_file, "SCREENSHOT=" + screenshot});
  ASSERT_EQ(browser.exit_code, 0) << "stdout: " << browser.out << "\nstderr: " << browser.err;
  const auto seen = nlohmann::json::parse(browser.out.substr(browser.out.rfind('{')));

  EXPECT_EQ(seen["unauthenticated_status"], 401);
  EXPECT_EQ(seen["login_form"], 1);
  EXPECT_EQ(seen["url_has_token"], false);
  EXPECT_EQ(seen["cookie_http_only"], true);
  EXPECT_EQ(seen["saw_running"], true);
  EXPECT_EQ(seen["saw_succeeded"], true);
  EXPECT_EQ(seen["same_document"], true) << "the page must change in place, not reload";
  EXPECT_EQ(seen["job_state"], "succeeded");
  EXPECT_EQ(seen["boxes"], 5);
  EXPECT_EQ(seen["arrows"], 5);
  EXPECT_EQ(seen["panel_title"], "B.wait");
  EXPECT_NE(seen["output"].get<std::string>().find("hello from B.wait"), std::string::npos)
      << seen["output"];
  // Every box ends in its card's final state, the combine stage's too.
  ASSERT_EQ(seen["final_states"].size(), 5u) << seen["final_states"];
  for (const auto& state : seen["final_states"]) EXPECT_EQ(state, "succeeded") << seen;
  EXPECT_EQ(seen["labels"], nlohmann::json::parse(R"(["fetch","sum","wait","double","combine"])"));
  // Each stack's column names the worker that ran it (never the coordinator that placed it).
  ASSERT_EQ(seen["stack_nodes"].size(), 3u) << seen["stack_nodes"];
  for (const auto& node : seen["stack_nodes"]) {
    EXPECT_TRUE(node == "on x" || node == "on y") << seen["stack_nodes"];
  }
  // Every card ran once, on one of the two workers: a bar each in the timeline.
  EXPECT_EQ(seen["timeline_bars"], 5);
  for (const auto& lane : seen["timeline_lanes"]) {
    EXPECT_TRUE(lane == "x" || lane == "y") << lane;
  }
  EXPECT_TRUE(std::filesystem::file_size(screenshot) > 0);
  // The job ended as the CLI sees it too.
  CommandResult status = cluster.Cli({"status"});
  EXPECT_NE(status.out.find("succeeded"), std::string::npos) << status.out;
}

// A job run twice: the second's page shows its cards as cached (state and words, not only a
// colour), and a card's panel names the job whose run produced its result.
TEST(WebViewBrowser, CardsFromTheResultCacheShowAsCached) {
  TempDir dir;
  TestCluster cluster({{"x"}, {"y"}});
  ASSERT_FALSE(cluster.web_url().empty());
  const std::string spec = dir.path() + "/cached.yaml";
  std::ofstream(spec) << "name: cached\n"
                         "stacks:\n"
                         "  A:\n"
                         "    cache: true\n"
                         "    cards:\n"
                         "      - {id: make, run: \"sh -c 'seq 1 5 > n.txt'\", outputs: [n.txt]}\n"
                         "  B:\n"
                         "    cards:\n"
                         "      - {id: sum, cache: true, inputs: [A.make:n.txt], run: cat n.txt}\n"
                         "      - {id: stamp, run: date}\n";
  std::string jobs[2];
  for (std::string& job : jobs) {
    CommandResult submitted = cluster.Cli({"submit", spec, "--wait"});
    ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
    job = submitted.out.substr(0, submitted.out.find('\n'));
  }
  CommandResult browser =
      RunCommand({"node", HOLLERITH_BROWSER_DIR "/cached_job_page.mjs"}, std::chrono::seconds(90),
                 {"WEB_URL=" + cluster.web_url(), "JOB_ID=" + jobs[1],
                  "TOKEN_FILE=" + cluster.token_file(), "CARD=B.sum"});
  ASSERT_EQ(browser.exit_code, 0) << "stdout: " << browser.out << "\nstderr: " << browser.err;
  const size_t line = browser.out.rfind("\n{");  // its last line (the JSON nests objects)
  const auto seen =
      nlohmann::json::parse(browser.out.substr(line == std::string::npos ? 0 : line + 1));
  EXPECT_EQ(seen["states"],
            nlohmann::json::parse(R"({"A.make":"cached","B.sum":"cached","B.stamp":"succeeded"})"))
      << seen;
  EXPECT_NE(std::find(seen["legend"].begin(), seen["legend"].end(), "cached"), seen["legend"].end())
      << seen["legend"];
  EXPECT_EQ(seen["facts"]["state"], "cached") << seen["facts"];
  EXPECT_EQ(seen["facts"]["cached from"], "job " + jobs[0]) << seen["facts"];
  EXPECT_EQ(seen["facts"]["cache"], "hit: job " + jobs[0]) << seen["facts"];
}

}  // namespace
}  // namespace hollerith::testing
