// `--version` on the three binaries, the VERSION column of `hollerith workers`, shell completion
// scripts (sourced in a real bash), and `hollerith help spec`, as users call them.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "common/base/version.h"
#include "common/spec/schema.h"
#include "tests/support/cluster.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace hollerith::testing {
namespace {

TEST(CliVersion, EachBinaryPrintsTheProjectVersionAndCommit) {
  const std::regex line(std::string("(hollerith|hollerith-coordinator|hollerith-worker) ") +
                        std::regex_replace(kProjectVersion, std::regex("\\."), "\\.") +
                        " \\(git ([0-9a-f]{4,40}|unknown)\\)\n");
  for (const std::string& binary :
       {kHollerith, std::string(HOLLERITH_COORDINATOR_PATH), std::string(HOLLERITH_WORKER_PATH)}) {
    auto r = RunCommand({binary, "--version"}, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 0) << binary << ": " << r.err;
    EXPECT_TRUE(std::regex_match(r.out, line)) << binary << " printed: " << r.out;
    EXPECT_NE(r.out.find(kVersionString), std::string::npos) << r.out;
    const std::string name = binary.substr(binary.rfind('/') + 1);
    EXPECT_EQ(r.out.rfind(name + " ", 0), 0u) << r.out;
  }
}

TEST(CliVersion, WorkersShowTheirVersionAndNoWarningWhenTheyMatch) {
  TestCluster cluster({{"w1", ""}});
  auto r = cluster.Cli({"workers"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("VERSION"), std::string::npos) << r.out;
  std::istringstream lines(r.out);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_EQ(row.rfind("w1 ", 0), 0u) << r.out;
  EXPECT_NE(row.find(kVersionString), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << "same build on both sides: " << r.err;
}

// Sources the generated bash script and completes COMP_WORDS=(words...) at the last word.
CommandResult BashComplete(const std::string& script, const std::vector<std::string>& words,
                           const std::vector<std::string>& env = {}) {
  std::string array;
  for (const auto& w : words) array += " '" + w + "'";
  const std::string program = "source '" + script + "'; COMP_WORDS=(" + array +
                              "); COMP_CWORD=" + std::to_string(words.size() - 1) +
                              "; _hollerith_complete_function; printf '%s\\n' \"${COMPREPLY[@]}\"";
  return RunCommand({"bash", "-c", program}, std::chrono::seconds(30), env);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

TEST(CliCompletion, BashCompletesSubcommandsAndFlags) {
  TempDir dir;
  const std::string script = dir.path() + "/hollerith.bash";
  auto gen = RunCommand({kHollerith, "completion", "bash"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  std::ofstream(script) << gen.out;

  auto sub = BashComplete(script, {"hollerith", "sub"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(Lines(sub.out), std::vector<std::string>{"submit"}) << sub.out;

  auto all = BashComplete(script, {"hollerith", ""});
  for (const char* name : {"validate", "run", "submit", "status", "watch", "logs", "workers",
                           "completion", "help", "--version"}) {
    EXPECT_NE(std::find(Lines(all.out).begin(), Lines(all.out).end(), name), Lines(all.out).end())
        << name << " in: " << all.out;
  }

  auto flags = BashComplete(script, {"hollerith", "submit", "--wa"});
  EXPECT_EQ(Lines(flags.out), std::vector<std::string>{"--wait"}) << flags.out;

  auto shells = BashComplete(script, {"hollerith", "completion", ""});
  EXPECT_EQ(Lines(shells.out), (std::vector<std::string>{"bash", "zsh"})) << shells.out;

  auto topics = BashComplete(script, {"hollerith", "help", "s"});
  EXPECT_EQ(Lines(topics.out), std::vector<std::string>{"spec"}) << topics.out;

  // Without a coordinator, a job id completes to nothing, quietly.
  auto none =
      BashComplete(script, {kHollerith, "status", ""},
                   {"HOLLERITH_COORDINATOR=127.0.0.1:1", "HOLLERITH_TOKEN_FILE=/nonexistent"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_TRUE(Lines(none.out).empty()) << none.out;
  EXPECT_EQ(none.err, "");
}

TEST(CliCompletion, BashCompletesJobIdsAndCardsFromTheCoordinator) {
  TestCluster cluster({{"w1", ""}});
  const std::string spec = cluster.data_dir() + "/c.yaml";
  std::ofstream(spec) << R"(name: completes
stacks:
  A:
    cards:
      - {id: first, builtin: noop}
      - {id: second, builtin: noop}
)";
  auto submit = cluster.Cli({"submit", spec, "--wait"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  auto status = cluster.Cli({"status", "completes", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;

  const std::string script = cluster.data_dir() + "/hollerith.bash";
  std::ofstream(script) << cluster.Cli({"completion", "bash"}).out;
  const std::vector<std::string> env = {"HOLLERITH_COORDINATOR=" + cluster.address(),
                                        "HOLLERITH_TOKEN_FILE=" + cluster.token_file()};
  auto jobs = BashComplete(script, {kHollerith, "logs", "comp"}, env);
  // The job's id and its name.
  const std::vector<std::string> both = {"completes-1", "completes"};
  EXPECT_EQ(Lines(jobs.out), both) << jobs.out << jobs.err;
  auto cards = BashComplete(script, {kHollerith, "logs", "completes", "A."}, env);
  EXPECT_EQ(Lines(cards.out), (std::vector<std::string>{"A.first", "A.second"}))
      << cards.out << cards.err;
  // The flags given on the command line are passed on to the coordinator.
  auto flagged = BashComplete(script, {kHollerith, "status", "--coordinator", cluster.address(),
                                       "--token-file", cluster.token_file(), "compl"});
  EXPECT_EQ(Lines(flagged.out), both) << flagged.out;
}

TEST(CliCompletion, ZshScriptNamesEverySubcommand) {
  auto r = RunCommand({kHollerith, "completion", "zsh"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("#compdef hollerith", 0), 0u) << r.out;
  for (const char* name : {"validate", "run", "verify", "up", "submit", "status", "watch", "logs",
                           "cancel", "delete", "workers", "trace", "help", "completion"}) {
    EXPECT_NE(r.out.find(std::string("'") + name + ":"), std::string::npos) << name;
  }
  auto bad = RunCommand({kHollerith, "completion", "fish"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(CliHelp, SpecMentionsEveryKeyTheSchemaAccepts) {
  auto r = RunCommand({kHollerith, "help", "spec"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const SpecKeys& keys = AcceptedSpecKeys();
  size_t count = 0;
  for (const auto* level : {&keys.job, &keys.stack, &keys.card, &keys.combine}) {
    for (std::string_view key : *level) {
      EXPECT_NE(r.out.find("\n  " + std::string(key) + "\n"), std::string::npos) << key;
      ++count;
    }
  }
  EXPECT_GE(count, 15u);
  // And the hard list of the issue, should the schema's list ever shrink by mistake.
  for (const char* key :
       {"name", "stacks", "node", "labels", "cards", "id", "run", "builtin", "after", "inputs",
        "outputs", "env", "timeout", "retries", "combine", "noop", "sleep"}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
  }
  auto plain = RunCommand({kHollerith, "help"});
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_NE(plain.out.find("submit"), std::string::npos) << plain.out;
}

}  // namespace
}  // namespace hollerith::testing
