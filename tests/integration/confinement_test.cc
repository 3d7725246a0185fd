// Cards that try to escape, on real binaries: a link planted at a declared output (to a secret
// outside the workspace), limits exceeded, the worker's environment, the worker's user (the suite
// runs as root in CI, so workers run cards as another user). Each checks how the attempt fails,
// that the secret shows up nowhere (results, status, logs), and that the worker stays up.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cluster.h"

namespace hollerith::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSecret = "TOP-SECRET-5ddc1e0f";

nlohmann::json Json(const CommandResult& r) { return nlohmann::json::parse(r.out, nullptr, false); }

// A secret file outside every workspace, readable only by the test's user.
std::string MakeSecret(const std::string& dir) {
  const std::string path = dir + "/secret/shadow";
  fs::create_directories(dir + "/secret");
  std::ofstream(path) << kSecret << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

// A producer that plants links named like its declared outputs (the file itself, and a parent
// directory), and consumers that would print what the node published.
std::string PlantingSpec(const std::string& secret) {
  const std::string dir = fs::path(secret).parent_path().string();
  return "name: planted\nstacks:\n"
         "  A:\n    cards:\n"
         "      - id: file\n        run: ln -s " +
         secret +
         " result.txt\n"
         "        outputs: [result.txt]\n"
         "  B:\n    cards:\n"
         "      - id: dir\n        run: ln -s " +
         dir +
         " sub\n"
         "        outputs: [sub/shadow]\n"
         "  C:\n    cards:\n"
         "      - id: use\n        inputs: [A.file:result.txt, B.dir:sub/shadow]\n"
         "        run: cat result.txt sub/shadow\n";
}

void ExpectPlantedLinksRefused(const nlohmann::json& doc, const std::string& whole_output) {
  ASSERT_TRUE(doc.is_object()) << whole_output;
  EXPECT_EQ(doc["state"], "failed");
  const std::string file_error = doc["cards"]["A.file"]["error"].get<std::string>();
  EXPECT_EQ(file_error,
            "declared output result.txt refused: 'result.txt' is a symbolic link or lies under "
            "one (links are not followed: paths must stay inside the workspace)");
  const std::string dir_error = doc["cards"]["B.dir"]["error"].get<std::string>();
  EXPECT_NE(dir_error.find("declared output sub/shadow refused"), std::string::npos) << dir_error;
  EXPECT_NE(dir_error.find("symbolic link"), std::string::npos) << dir_error;
  EXPECT_NE(doc["cards"]["C.use"]["state"], "succeeded");
  EXPECT_EQ(whole_output.find(kSecret), std::string::npos) << whole_output;
}

TEST(Confinement, PlantedOutputLinksAreRefusedOnAWorker) {
  TestCluster cluster({{"w", ""}});
  const std::string secret = MakeSecret(cluster.data_dir());
  const std::string spec = cluster.data_dir() + "/planted.yaml";
  std::ofstream(spec) << PlantingSpec(secret);
  auto r = cluster.Cli({"submit", spec, "--wait", "--json"});
  EXPECT_NE(r.exit_code, 0);
  ExpectPlantedLinksRefused(Json(r), r.out + r.err);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"status", "planted"},
                                             {"status", "planted", "--json"},
                                             {"logs", "planted", "A.file"},
                                             {"logs", "planted", "B.dir"}}) {
    auto shown = cluster.Cli(args);
    EXPECT_EQ((shown.out + shown.err).find(kSecret), std::string::npos) << args[0];
  }
  EXPECT_EQ(cluster.WorkerLog("w").find(kSecret), std::string::npos);
  // Nor did it reach the artifact store under any name.
  for (const auto& entry : fs::recursive_directory_iterator(cluster.data_dir())) {
    // Links the cards left are not the node's doing: only regular files count.
    if (!fs::is_regular_file(entry.symlink_status()) || entry.path() == fs::path(secret)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(content.find(kSecret), std::string::npos) << entry.path();
  }
}

TEST(Confinement, PlantedOutputLinksAreRefusedByRunLocal) {
  TempDir dir;
  const std::string secret = MakeSecret(dir.path());
  const std::string spec = dir.Write("planted.yaml", PlantingSpec(secret));
  auto r = RunCommand(
      {HOLLERITH_CLI_PATH, "run", "--local", spec, "--json", "--workdir", dir.path() + "/work"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  ExpectPlantedLinksRefused(Json(r), r.out + r.err);
}

TEST(Confinement, ValidationRefusesPathsOutOfTheWorkspace) {
  TempDir dir;
  const std::string spec = dir.Write(
      "escape.yaml",
      "name: escape\nstacks:\n  A:\n    cards:\n      - id: a\n        run: 'true'\n"
      "        outputs: [../../etc/passwd]\n  B:\n    cards:\n      - id: b\n        run: 'true'\n"
      "        inputs: ['A.a:/etc/shadow']\n");
  auto r = RunCommand({HOLLERITH_CLI_PATH, "validate", spec});
  EXPECT_EQ(r.exit_code, 1);  // validate: 1 for an invalid spec
  EXPECT_NE(r.err.find(spec + ":7:19: bad output '../../etc/passwd' in 'outputs' of card 'A.a': "
                              "the path must not contain '..'"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(spec + ":12:18: bad input 'A.a:/etc/shadow' in 'inputs' of card 'B.b': "
                              "the path must be relative to the workspace"),
            std::string::npos)
      << r.err;
}

TEST(Confinement, CardsSeeNoneOfTheWorkersEnvironment) {
  TestCluster cluster({{"w", "", {"env", std::string("HOLLERITH_TEST_SECRET=") + kSecret}}});
  const std::string spec = cluster.data_dir() + "/env.yaml";
  std::ofstream(spec) << "name: env\nstacks:\n  A:\n    cards:\n"
                         "      - {id: env, run: [env], env: {MINE: mine}}\n";
  auto r = cluster.Cli({"submit", spec, "--wait", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string out = Json(r)["cards"]["A.env"]["stdout"].get<std::string>();
  EXPECT_EQ(out.find(kSecret), std::string::npos) << out;
  EXPECT_EQ(out.find("HOLLERITH_"), std::string::npos) << "nothing of the daemon's: " << out;
  EXPECT_NE(out.find("PATH=/usr/local/bin:/usr/bin:/bin\n"), std::string::npos) << out;
  EXPECT_NE(out.find("LANG=C.UTF-8\n"), std::string::npos) << out;
  EXPECT_NE(out.find("HOME=" + cluster.data_dir() + "/w/jobs/"), std::string::npos) << out;
  EXPECT_NE(out.find("MINE=mine\n"), std::string::npos) << out;
  EXPECT_EQ(cluster.WorkerLog("w").find(kSecret), std::string::npos);
}

TEST(Confinement, CardsOverTheirLimitsFailWithTheReasonAndTheWorkerStaysUp) {
  TestCluster cluster({{"w", "", {}, {"--default-limits", "files=4096"}}});
  const std::string spec = cluster.data_dir() + "/limits.yaml";
  std::ofstream(spec) << R"(name: limits
stacks:
  cpu:
    cards:
      - id: spin
        run: 'while :; do :; done'
        limits: {cpu: 1s}
        timeout: 60s
  memory:
    cards:
      - id: hog
        run: [python3, -c, 'x = bytearray(512 * 1024 * 1024)']
        limits: {memory: 64MiB}
  files:
    cards:
      - id: fds
        run: [bash, -c, 'for i in $(seq 1 100); do exec {fd}</dev/null || exit 3; done']
        limits: {files: 20}
  processes:
    cards:
      - id: bomb
        run: 'i=0; while [ $i -lt 200 ]; do sleep 3 & i=$((i+1)); done; wait'
        limits: {processes: 20}
        timeout: 60s
)";
  auto r = cluster.Cli({"submit", spec, "--wait", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto doc = Json(r);
  ASSERT_TRUE(doc.is_object()) << r.out << r.err;
  EXPECT_EQ(doc["cards"]["cpu.spin"]["error"], "killed: cpu limit 1s exceeded");
  EXPECT_EQ(doc["cards"]["memory.hog"]["error"],
            "memory limit 64MiB exceeded (an allocation failed)");
  EXPECT_EQ(doc["cards"]["files.fds"]["error"], "files limit 20 exceeded (too many open files)");
  EXPECT_EQ(doc["cards"]["processes.bomb"]["error"], "processes limit 20 exceeded (a fork failed)");
  auto status = cluster.Cli({"status", "limits"});
  EXPECT_NE(status.out.find("limit"), std::string::npos) << status.out;

  // The worker is still there and runs the next job.
  const std::string next = cluster.data_dir() + "/next.yaml";
  std::ofstream(next)
      << "name: next\nstacks:\n  A:\n    cards:\n      - {id: a, run: echo alive}\n";
  auto again = cluster.Cli({"submit", next, "--wait", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Json(again)["cards"]["A.a"]["stdout"], "alive\n");
  EXPECT_NE(cluster.WorkerLog("w").find("default limits: files=4096"), std::string::npos);
}

TEST(Confinement, AWorkerStartedAsRootRunsCardsAsAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CI runs the suite as root)";
  TestCluster cluster({{"w", ""}});
  const std::string secret = MakeSecret(cluster.data_dir());
  const std::string spec = cluster.data_dir() + "/user.yaml";
  std::ofstream(spec) << "name: user\nstacks:\n  A:\n    cards:\n"
                         "      - {id: id, run: id -u}\n"
                         "      - {id: write, run: 'echo mine > here.txt && cat here.txt'}\n"
                         "  B:\n    cards:\n"
                         "      - {id: peek, run: cat " +
                             secret + "}\n" +
                             "  C:\n    cards:\n      - {id: kill, run: 'kill -9 $PPID'}\n" +
                             "  D:\n    cards:\n      - {id: token, run: cat " +
                             cluster.token_file() + "}\n";
  auto r = cluster.Cli({"submit", spec, "--wait", "--json"});
  auto doc = Json(r);
  ASSERT_TRUE(doc.is_object()) << r.out << r.err;
  EXPECT_EQ(doc["cards"]["A.id"]["state"], "succeeded");
  const std::string uid = doc["cards"]["A.id"]["stdout"].get<std::string>();
  EXPECT_NE(uid, "0\n");
  EXPECT_FALSE(uid.empty());
  EXPECT_EQ(doc["cards"]["A.write"]["stdout"], "mine\n") << "the workspace is the card user's";
  EXPECT_EQ(doc["cards"]["B.peek"]["state"], "failed");
  EXPECT_EQ(doc["cards"]["C.kill"]["state"], "failed") << "a card signalled its root worker";
  EXPECT_EQ(doc["cards"]["D.token"]["state"], "failed") << "a card read the worker's token";
  EXPECT_TRUE(cluster.WaitForWorkers({"w"})) << "the worker is still up";
  EXPECT_EQ((r.out + r.err).find(kSecret), std::string::npos);
  std::ifstream token_in(cluster.token_file());
  std::string token;
  std::getline(token_in, token);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ((r.out + r.err).find(token), std::string::npos) << "a card read the worker's token";
  const std::string expected_user = ::getpwnam("hollerith") != nullptr ? "hollerith" : "nobody";
  EXPECT_NE(cluster.WorkerLog("w").find("cards run as " + expected_user + " (uid " +
                                        uid.substr(0, uid.size() - 1)),
            std::string::npos)
      << cluster.WorkerLog("w");
}

}  // namespace
}  // namespace hollerith::testing
