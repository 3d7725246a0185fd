// The job page's graph in a real browser (headless Chromium, dag_layout_page.mjs), on jobs whose
// drawing once did not fit: a Montage-shaped job of 51 one-card stacks, and one of 5,000 stacks.
// For both, in graph coordinates: every stack box inside the drawing's extent, each box in the
// layer of its stack's depth, every edge from a lower layer to a higher one (and from a box left of
// its target's), no two boxes overlapping; the pane fits a 1280x800 window and the first view
// fits the drawing without zooming in above 1:1. The Montage job also shows its critical path,
// collapses its matrix groups and opens a card from the keyboard. Screenshots go to
// build/test-artifacts (montage-page*.png, five-thousand-stacks-page.png); the 5,000-stack job's
// load time (navigation to a drawn graph) is printed, not asserted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace hollerith::testing {
namespace {

using Json = nlohmann::ordered_json;

Json Noop(const std::string& id, const std::vector<std::string>& after) {
  Json card = {{"id", id}, {"builtin", "noop"}};
  if (!after.empty()) card["after"] = after;
  return card;
}

// Montage's mosaic workflow, in small: N projections, a difference of each pair of neighbouring
// projections (i, i+1 and i, i+2), one background model fitted to every difference, a background
// correction of each projection (after the model and its projection), and one final add. With
// N = 13: 13 + 23 + 1 + 13 + 1 = 51 one-card stacks, 5 layers deep (mProject, mDiff, mBgModel,
// mBackground, mAdd). mProject-3 takes 300 ms, every other card none: the critical path runs
// through it.
Json MontageSpec() {
  constexpr int n = 13;
  Json stacks = Json::object();
  std::vector<std::string> diffs, backgrounds;
  for (int i = 1; i <= n; ++i) {
    Json card = Noop("p", {});
    if (i == 3) card["builtin"] = {{"sleep", "300ms"}};
    stacks["mProject-" + std::to_string(i)] = {{"cards", {card}}};
  }
  for (int i = 1; i <= n; ++i) {
    for (int j : {i + 1, i + 2}) {
      if (j > n) continue;
      const std::string id = "mDiff-" + std::to_string(i) + "-" + std::to_string(j);
      stacks[id] = {{"cards",
                     {Noop("d", {"mProject-" + std::to_string(i) + ".p",
                                 "mProject-" + std::to_string(j) + ".p"})}}};
      diffs.push_back(id + ".d");
    }
  }
  stacks["mBgModel"] = {{"cards", {Noop("fit", diffs)}}};
  for (int i = 1; i <= n; ++i) {
    const std::string id = "mBackground-" + std::to_string(i);
    stacks[id] = {{"cards", {Noop("b", {"mBgModel.fit", "mProject-" + std::to_string(i) + ".p"})}}};
    backgrounds.push_back(id + ".b");
  }
  stacks["mAdd"] = {{"cards", {Noop("add", backgrounds)}}};
  return {{"name", "montage"}, {"stacks", stacks}};
}

// 5,000 stacks in 4 layers (2,000 extract, 1,500 clean, 1,000 merge, 500 report), each after two
// stacks of the layer before (fan-in): 6,000 edges.
Json FiveThousandSpec() {
  const std::vector<std::pair<std::string, int>> layers = {
      {"extract", 2000}, {"clean", 1500}, {"merge", 1000}, {"report", 500}};
  Json stacks = Json::object();
  for (size_t l = 0; l < layers.size(); ++l) {
    const auto& [name, count] = layers[l];
    for (int i = 0; i < count; ++i) {
      std::vector<std::string> after;
      if (l > 0) {
        const auto& [before, before_count] = layers[l - 1];
        for (int k : {2 * i, 2 * i + 1}) {
          after.push_back(before + "-" + std::to_string(k % before_count) + ".c");
        }
      }
      stacks[name + "-" + std::to_string(i)] = {{"cards", {Noop("c", after)}}};
    }
  }
  return {{"name", "five-thousand"}, {"stacks", stacks}};
}

// Submits `spec` (as a JSON file), waits for the job to end, and runs dag_layout_page.mjs on its
// page with `env`; returns what the page saw.
nlohmann::json DrawJob(const TestCluster& cluster, const TempDir& dir, const Json& spec,
                       const std::string& screenshot_name, std::vector<std::string> env) {
  const std::string spec_file = dir.path() + "/" + spec["name"].get<std::string>() + ".json";
  std::ofstream(spec_file) << spec.dump();
  CommandResult submitted = cluster.Cli({"submit", spec_file, "--wait"}, std::chrono::seconds(150));
  EXPECT_EQ(submitted.exit_code, 0) << submitted.err;
  const std::string job = submitted.out.substr(0, submitted.out.find('\n'));

  const std::string artifacts = HOLLERITH_ARTIFACT_DIR;
  std::filesystem::create_directories(artifacts);
  const std::string screenshot = artifacts + "/" + screenshot_name;
  std::filesystem::remove(screenshot);
  env.insert(env.end(), {"WEB_URL=" + cluster.web_url(), "JOB_ID=" + job,
                         "TOKEN_FILE=" + cluster.token_file(), "SCREENSHOT=" + screenshot});
  CommandResult browser = RunCommand({"node", HOLLERITH_BROWSER_DIR "/dag_layout_page.mjs"},
                                     std::chrono::seconds(160), env);
  EXPECT_EQ(browser.exit_code, 0) << "stdout: " << browser.out << "\nstderr: " << browser.err;
  const size_t line = browser.out.rfind("\n{");
  const auto seen =
      nlohmann::json::parse(browser.out.substr(line == std::string::npos ? 0 : line + 1), nullptr,
                            /*allow_exceptions=*/false);
  EXPECT_FALSE(seen.is_discarded()) << browser.out;
  EXPECT_TRUE(std::filesystem::exists(screenshot)) << screenshot;
  return seen.is_discarded() ? nlohmann::json::object() : seen;
}

// What holds for every drawing: boxes inside the extent, in the layers of their depth, edges
// going right and to deeper layers, no overlaps, a pane that fits 1280x800, a first view that fits
// without zooming in.
void ExpectLaidOut(const nlohmann::json& seen, int stacks, int edges) {
  EXPECT_EQ(seen["stacks"], stacks);
  EXPECT_EQ(seen["cards"], stacks);
  EXPECT_EQ(seen["edges"], edges);
  EXPECT_EQ(seen["outside"], nlohmann::json::array()) << "boxes outside the drawing's extent";
  EXPECT_EQ(seen["backward"], nlohmann::json::array()) << "edges not going to a deeper layer";
  EXPECT_EQ(seen["not_depth"], nlohmann::json::array()) << "stacks not in their depth's layer";
  EXPECT_EQ(seen["overlaps"], nlohmann::json::array()) << "stack boxes that overlap";
  EXPECT_EQ(seen["pane_fits"], true) << seen["pane"];
  EXPECT_GT(seen["scale"].get<double>(), 0);
  EXPECT_LE(seen["scale"].get<double>(), 1.0);
  EXPECT_EQ(seen["zoomed_in"], true);
  EXPECT_EQ(seen["fit_again"], true);
  EXPECT_EQ(seen["cards_labelled"], stacks) << "a focusable box with an aria-label per card";
}

TEST(WebViewBrowser, MontageJobIsDrawnInLayersByDepth) {
  TempDir dir;
  TestCluster cluster({{"x"}, {"y"}});
  ASSERT_FALSE(cluster.web_url().empty());
  const auto seen = DrawJob(cluster, dir, MontageSpec(), "montage-page.png",
                            {"CRITICAL=1", "GROUPS=1", "KEYBOARD_CARD=mAdd.add"});
  ASSERT_FALSE(seen.empty());
  // 13 projections x 2 diffs each (less the last ones: 23 x 2 = 46), 23 into the model, the
  // model and a projection into each of 13 backgrounds (26), 13 into the add: 108.
  ExpectLaidOut(seen, 51, 46 + 23 + 26 + 13);
  EXPECT_EQ(seen["layer_sizes"], nlohmann::json::parse("[13, 23, 1, 13, 1]"));
  EXPECT_EQ(seen["minimap"], true) << "51 stacks do not fit the pane at 1:1: an overview";

  // The critical path: mProject-3 (300 ms) -> an mDiff of it -> the model -> a background -> the
  // add, each link an edge drawn as critical.
  const auto cards = seen["critical_cards"].get<std::set<std::string>>();
  EXPECT_EQ(cards.size(), 5u) << seen["critical_cards"];
  for (const char* card : {"mProject-3.p", "mBgModel.fit", "mAdd.add"}) {
    EXPECT_TRUE(cards.count(card)) << card << " not on " << seen["critical_cards"];
  }
  ASSERT_EQ(seen["critical_edges"].size(), 4u) << seen["critical_edges"];
  for (const auto& edge : seen["critical_edges"]) {
    EXPECT_TRUE(cards.count(edge[0]) && cards.count(edge[1])) << edge;
  }
  EXPECT_EQ(seen["critical_off"], 0);

  // Collapsed: a box per matrix (mProject, mDiff, mBackground: 3 or more stacks named BASE-...)
  // with its count and its cards by state, the two other stacks as they are.
  ASSERT_EQ(seen["groups"].size(), 3u) << seen["groups"];
  std::map<std::string, int> counts;
  for (const auto& g : seen["groups"]) {
    counts[g["base"]] = g["count"];
    EXPECT_EQ(g["succeeded"], g["count"]) << g;
    EXPECT_NE(g["label"].get<std::string>().find("succeeded"), std::string::npos) << g;
  }
  EXPECT_EQ(counts,
            (std::map<std::string, int>{{"mBackground", 13}, {"mDiff", 23}, {"mProject", 13}}));
  EXPECT_EQ(seen["stacks_grouped"], 2);
  EXPECT_EQ(seen["stacks_expanded"], 51);

  // Keyboard: the card's state in words, Enter opens its panel.
  EXPECT_EQ(seen["keyboard_label"], "mAdd.add: succeeded");
  EXPECT_EQ(seen["keyboard_panel"], "mAdd.add");
  EXPECT_EQ(seen["zoomed_by_key"], true);
}

TEST(WebViewBrowser, FiveThousandStacksAreDrawnInFull) {
  TempDir dir;
  TestCluster cluster({{"x"}, {"y"}});
  ASSERT_FALSE(cluster.web_url().empty());
  const auto seen = DrawJob(cluster, dir, FiveThousandSpec(), "five-thousand-stacks-page.png", {});
  ASSERT_FALSE(seen.empty());
  ExpectLaidOut(seen, 5000, 2 * 3000);
  EXPECT_EQ(seen["layer_sizes"], nlohmann::json::parse("[2000, 1500, 1000, 500]"));
  EXPECT_EQ(seen["minimap"], true);
  // Measured, not asserted (the target is 2 s on the 2-core reference machine).
  std::cout << "5,000-stack job page: drawn " << seen["load_ms"] << " ms after navigation ("
            << seen["drawn_ms"] << " ms by the page's clock: the job's graph fetched at "
            << seen["graph_fetched_ms"] << " ms, layout in the worker " << seen["layout_ms"]
            << " ms, drawing " << seen["draw_ms"] << " ms)" << std::endl;
}

}  // namespace
}  // namespace hollerith::testing
