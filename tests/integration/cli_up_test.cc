// `hollerith up`: a local cluster that prints how to use it, runs jobs, and on Ctrl-C stops every
// daemon it started.
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/process.h"

namespace hollerith::testing {
namespace {

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // pid (comm) state ppid ...
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.push_back(std::stoi(name));
  }
  return out;
}

TEST(CliUp, PrintsHowToUseItRunsAJobAndStopsEverythingOnCtrlC) {
  Daemon up({HOLLERITH_CLI_PATH, "up", "--workers", "2"});
  const std::string address =
      up.WaitForLine("  export HOLLERITH_COORDINATOR=", std::chrono::seconds(30));
  const std::string token = up.WaitForLine("  export HOLLERITH_TOKEN_FILE=");
  ASSERT_FALSE(address.empty());
  ASSERT_FALSE(token.empty());
  EXPECT_GE(ChildrenOf(up.pid()).size(), 3u) << "a coordinator and two workers";

  auto r =
      RunCommand({HOLLERITH_CLI_PATH, "submit",
                  std::string(HOLLERITH_SOURCE_DIR) + "/examples/report.yaml", "--wait", "--json"},
                 std::chrono::seconds(60),
                 {"HOLLERITH_COORDINATOR=" + address, "HOLLERITH_TOKEN_FILE=" + token});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("500500 1001000"), std::string::npos) << r.out;

  const auto children = ChildrenOf(up.pid());
  up.Signal(SIGINT);
  EXPECT_EQ(up.Wait(std::chrono::seconds(20)), 0);
  for (pid_t child : children) {
    EXPECT_NE(kill(child, 0), 0) << "daemon " << child << " outlived `hollerith up`";
  }
}

}  // namespace
}  // namespace hollerith::testing
