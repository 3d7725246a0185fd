// The web view's cluster page and a job's actions in a real browser (headless Chromium, driven by
// actions_page.mjs): the cluster page lists the test cluster's workers and the stack each runs; a
// cancel without the session's CSRF token, with a wrong one or as a GET is refused and the job
// goes on; the page's Cancel button ends the running job (as the CLI sees it too); its result and
// trace download. Screenshots of the job list, job and cluster pages land in
// build/test-artifacts (docs/images/ holds copies).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace hollerith::testing {
namespace {

TEST(WebViewBrowser, ClusterPageAndCancellingAJobFromItsPage) {
  TempDir dir;
  TestCluster cluster({{"x"}, {"y"}});
  ASSERT_FALSE(cluster.web_url().empty());
  const std::string spec = dir.path() + "/long.yaml";
  std::ofstream(spec) << "name: long\n"
                         "stacks:\n"
                         "  S:\n"
                         "    cards:\n"
                         "      - {id: first, run: echo first}\n"
                         "      - {id: nap, run: sleep 300}\n"
                         "      - {id: after, run: echo never}\n";
  CommandResult submitted = cluster.Cli({"submit", spec});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const std::string job = submitted.out.substr(0, submitted.out.find('\n'));

  const std::string shots = HOLLERITH_ARTIFACT_DIR;
  std::filesystem::create_directories(shots);
  CommandResult browser =
      RunCommand({"node", HOLLERITH_BROWSER_DIR "/actions_page.mjs"}, std::chrono::seconds(120),
                 {"WEB_URL=" + cluster.web_url(), "JOB_ID=" + job,
                  "TOKEN_FILE=" + cluster.token_file(), "SHOTS=" + shots});
  ASSERT_EQ(browser.exit_code, 0) << "stdout: " << browser.out << "\nstderr: " << browser.err;
  const auto seen = nlohmann::json::parse(browser.out.substr(browser.out.rfind("\n{") + 1));

  EXPECT_EQ(seen["workers"], nlohmann::json::parse(R"(["x","y"])")) << seen;
  EXPECT_EQ(seen["placed"], nlohmann::json::parse(R"(["long/S"])")) << seen;
  EXPECT_EQ(
      seen["cluster_columns"],
      nlohmann::json::parse(
          R"(["worker","labels","slots","capacity","placed","version","connected","stacks"])"));
  EXPECT_EQ(seen["cancel_without_csrf"], 403);
  EXPECT_EQ(seen["cancel_with_wrong_csrf"], 403);
  EXPECT_NE(seen["cancel_as_get"], 200);
  EXPECT_EQ(seen["state_after_refused"], "running") << "a refused cancel must change nothing";
  EXPECT_EQ(seen["result_while_running"], 409);
  EXPECT_EQ(seen["command"], "hollerith watch " + job);
  EXPECT_EQ(seen["job_state"], "cancelled");
  EXPECT_EQ(seen["cancel_hidden"], true);
  EXPECT_EQ(seen["result_file"], job + ".result.json");
  EXPECT_EQ(seen["result_state"], "cancelled");
  EXPECT_EQ(seen["trace_file"], job + ".trace.json");
  EXPECT_GT(seen["trace_events"].get<int>(), 0);
  EXPECT_EQ(seen["listed_state"], "cancelled");
  for (const char* shot : {"cluster-page.png", "cancelled-job-page.png", "job-list.png"}) {
    EXPECT_GT(std::filesystem::file_size(shots + "/" + shot), 0u) << shot;
  }
  CommandResult status = cluster.Cli({"status", job});
  EXPECT_NE(status.out.find("cancelled"), std::string::npos) << status.out;
}

}  // namespace
}  // namespace hollerith::testing
