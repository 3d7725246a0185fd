// Cards that try to leave their confinement: links planted in the workspace, limits exceeded, the
// daemon's user and files. Each test makes the escape attempt real and checks that it fails, and
// how it is reported.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "card_runner_fixture.h"
#include "common/runner/card_sandbox.h"
#include "common/runner/confined_path.h"
#include "common/runner/workspace_pool.h"

namespace hollerith {
namespace {

// Both ways of resolving beneath a directory: the kernel's openat2 and the component walk.
class ConfinedPathTest : public ::testing::TestWithParam<ResolveMethod> {
 protected:
  void SetUp() override {
    root_ = fs::path(dir_.path()) / "ws";
    outside_ = fs::path(dir_.path()) / "outside";
    fs::create_directories(root_);
    fs::create_directories(outside_);
    std::ofstream(outside_ / "secret") << "s3cr3t";
    Result<UniqueFd> fd = OpenDirectory(root_);
    ASSERT_TRUE(fd.ok()) << fd.message();
    ws_ = std::move(*fd);
  }

  testing::TempDir dir_;
  fs::path root_;
  fs::path outside_;
  UniqueFd ws_;
};

TEST_P(ConfinedPathTest, ReadsARegularFileBeneath) {
  fs::create_directories(root_ / "out");
  std::ofstream(root_ / "out" / "data.txt") << "payload";
  Result<UniqueFd> fd = OpenOutputBeneath(ws_.get(), "out/data.txt", std::nullopt, GetParam());
  ASSERT_TRUE(fd.ok()) << fd.message();
  EXPECT_EQ(ReadFile(FdPath(fd->get())), "payload");
}

TEST_P(ConfinedPathTest, RefusesALinkAtTheOutput) {
  fs::create_symlink(outside_ / "secret", root_ / "result.txt");
  Result<UniqueFd> fd = OpenOutputBeneath(ws_.get(), "result.txt", std::nullopt, GetParam());
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.message(),
            "'result.txt' is a symbolic link or lies under one (links are not followed: paths "
            "must stay inside the workspace)");
  // A link to a file inside the workspace is refused all the same: links are never followed.
  std::ofstream(root_ / "real") << "x";
  fs::create_symlink("real", root_ / "alias");
  EXPECT_FALSE(OpenOutputBeneath(ws_.get(), "alias", std::nullopt, GetParam()).ok());
}

TEST_P(ConfinedPathTest, RefusesALinkedParentDirectory) {
  fs::create_directory_symlink(outside_, root_ / "sub");
  Result<UniqueFd> fd = OpenOutputBeneath(ws_.get(), "sub/secret", std::nullopt, GetParam());
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.message().find("symbolic link"), std::string::npos) << fd.message();
  std::string leaf;
  Result<UniqueFd> parent =
      OpenParentBeneath(ws_.get(), "sub/deeper/new.txt", &leaf, std::nullopt, GetParam());
  ASSERT_FALSE(parent.ok());
  EXPECT_NE(parent.message().find("'sub'"), std::string::npos) << parent.message();
  EXPECT_FALSE(fs::exists(outside_ / "deeper")) << "nothing is created through the link";
}

TEST_P(ConfinedPathTest, RefusesAFifoWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_ / "pipe").c_str(), 0644), 0);
  Result<UniqueFd> fd = OpenOutputBeneath(ws_.get(), "pipe", std::nullopt, GetParam());
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.message(), "'pipe' is not a regular file");
}

TEST_P(ConfinedPathTest, RefusesUncleanPathsBeforeTouchingTheDisk) {
  for (const char* bad : {"../outside/secret", "/etc/passwd", "a//b", ""}) {
    Result<UniqueFd> fd = OpenOutputBeneath(ws_.get(), bad, std::nullopt, GetParam());
    EXPECT_FALSE(fd.ok()) << bad;
  }
}

TEST_P(ConfinedPathTest, RefusesAFileOfAnotherUserWhenCardsRunAsOne) {
  // A hard link to a file the card does not own looks like any file; its owner gives it away.
  ASSERT_EQ(::link((outside_ / "secret").c_str(), (root_ / "linked").c_str()), 0);
  const FileOwner card_user{::geteuid() + 1, ::getegid()};
  Result<UniqueFd> fd = OpenOutputBeneath(ws_.get(), "linked", card_user, GetParam());
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.message(),
            "'linked' belongs to uid " + std::to_string(::geteuid()) + ", not to the card's user");
}

TEST_P(ConfinedPathTest, MakesParentDirectoriesForInputs) {
  std::string leaf;
  Result<UniqueFd> parent =
      OpenParentBeneath(ws_.get(), "a/b/input.txt", &leaf, std::nullopt, GetParam());
  ASSERT_TRUE(parent.ok()) << parent.message();
  EXPECT_EQ(leaf, "input.txt");
  EXPECT_TRUE(fs::is_directory(root_ / "a" / "b"));
  std::ofstream(FdPath(parent->get()) / leaf) << "in";
  EXPECT_EQ(ReadFile(root_ / "a" / "b" / "input.txt"), "in");
}

INSTANTIATE_TEST_SUITE_P(Methods, ConfinedPathTest,
                         ::testing::Values(ResolveMethod::kAuto, ResolveMethod::kWalk),
                         [](const auto& info) {
                           return info.param == ResolveMethod::kAuto ? "Openat2" : "Walk";
                         });

// A suite of its own (gtest wants one fixture class per suite name, and the fixture's header
// gives every test file its own CardRunnerTest).
class ConfinedCardTest : public CardRunnerTest {};

TEST_F(ConfinedCardTest, SpillFileIsNotWrittenThroughAPlantedLink) {
  const fs::path outside = fs::path(dir_.path()) / "elsewhere";
  fs::create_directories(outside);
  CardLaunch launch = launch_;
  launch.capture_limit = 4;
  auto r =
      RunCard(Shell("ln -s " + outside.string() + " .hollerith; head -c 1000 /dev/zero"), launch);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->out.truncated);
  EXPECT_TRUE(r->out.spill_path.empty()) << r->out.spill_path;
  EXPECT_TRUE(fs::is_empty(outside)) << "the node wrote through the card's link";
}

// Limits. Each card goes over one; the reason names it.
TEST_F(ConfinedCardTest, CpuLimitKillsABusyLoop) {
  CardSpec card = Shell("while :; do :; done");
  card.mutable_limits().cpu = milliseconds(1000);
  card.timeout = milliseconds(30'000);  // far beyond: the limit must act first
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->succeeded());
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->error, "killed: cpu limit 1s exceeded");
}

TEST_F(ConfinedCardTest, MemoryLimitFailsAnAllocationPastIt) {
  CardSpec card;
  card.id = "hog";
  card.mutable_argv() = {"python3", "-c", "x = bytearray(512 * 1024 * 1024)"};
  card.mutable_limits().memory_bytes = uint64_t{64} << 20;
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->error, "memory limit 64MiB exceeded (an allocation failed)") << r->err.text;

  card.mutable_limits().memory_bytes = uint64_t{2} << 30;  // the same card within its limit
  card.mutable_argv() = {"python3", "-c", "x = bytearray(32 * 1024 * 1024)"};
  auto fine = RunCard(card);
  ASSERT_TRUE(fine);
  EXPECT_TRUE(fine->succeeded()) << fine->error << fine->err.text;
}

TEST_F(ConfinedCardTest, FilesLimitStopsOpeningMore) {
  CardSpec card;
  card.id = "fds";
  card.mutable_argv() = {"bash", "-c",
                         "for i in $(seq 1 100); do exec {fd}</dev/null || exit 3; done"};
  card.mutable_limits().files = 20;
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->error, "files limit 20 exceeded (too many open files)") << r->err.text;
}

TEST_F(ConfinedCardTest, DefaultLimitsApplyWhereTheSpecSetsNone) {
  UseSandbox(CardSandbox{.user = {}, .defaults = {.files = 16}});
  CardSpec card;
  card.id = "fds";
  card.mutable_argv() = {"bash", "-c", "ulimit -n"};
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, "16\n");
  card.mutable_limits().files = 32;  // the spec's own wins
  r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, "32\n");
}

TEST_F(ConfinedCardTest, StackMemoryRequestIsTheLimitBetweenCardLimitsAndDefaults) {
  UseSandbox(CardSandbox{.user = {}, .defaults = {.memory_bytes = uint64_t{4} << 30}});
  CardSpec card;
  card.id = "data";
  card.mutable_argv() = {"bash", "-c", "ulimit -d"};  // RLIMIT_DATA in KiB
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, "4194304\n") << "no request: the node's default";
  CardLaunch launch = launch_;
  launch.memory_request = uint64_t{512} << 20;  // the stack's resources: memory=512MiB
  r = RunCard(card, launch);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, "524288\n") << "the stack's request beats the default";
  card.mutable_limits().memory_bytes = uint64_t{256} << 20;
  r = RunCard(card, launch);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, "262144\n") << "the card's own limit beats the request";
}

// The card user from the default (nobody when the test runs as root, as in CI; the test's own
// user otherwise), with the workspace given to it as a worker does.
class ConfinedUserTest : public CardRunnerTest {
 protected:
  void SetUp() override {
    CardRunnerTest::SetUp();
    Result<CardUser> user = ResolveCardUser("");
    ASSERT_TRUE(user.ok()) << user.message();
    user_ = *user;
    WorkspacePool pool(fs::path(dir_.path()) / "jobs", 4, user_.owner());
    workspace_ = fs::path(dir_.path()) / "jobs" / "j" / "0";
    ASSERT_TRUE(pool.Create(workspace_).ok());
    launch_.workspace = workspace_;
    UseSandbox(CardSandbox{.user = user_, .defaults = {}});
  }
  CardUser user_;
};

TEST_F(ConfinedUserTest, ProcessesLimitBoundsAForkBomb) {
  CardSpec card = Shell("echo $$; i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done; wait");
  card.mutable_limits().processes = 20;
  CardLaunch launch = launch_;
  launch.output_drain = milliseconds(200);
  auto r = RunCard(card, launch);
  ASSERT_TRUE(r);
  const pid_t group = static_cast<pid_t>(std::atol(r->out.text.c_str()));
  if (group > 0) ::kill(-group, SIGKILL);  // the sleepers it did start
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->error, "processes limit 20 exceeded (a fork failed)") << r->err.text;
}

TEST_F(ConfinedUserTest, RootRunsCardsAsSomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CI runs as root)";
  EXPECT_TRUE(user_.switches);
  EXPECT_NE(user_.uid, 0u);
  const fs::path secret = fs::path(dir_.path()) / "root-only";
  std::ofstream(secret) << "root secret";
  fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
  auto r = RunCard(Shell("id -u; echo made > mine.txt; cat " + secret.string()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, std::to_string(user_.uid) + "\n");
  EXPECT_NE(r->exit_code, 0) << "the card read a 0600 root file";
  EXPECT_NE(r->err.text.find("Permission denied"), std::string::npos) << r->err.text;
  struct stat st;
  ASSERT_EQ(::stat((workspace_ / "mine.txt").c_str(), &st), 0) << "the workspace is writable";
  EXPECT_EQ(st.st_uid, user_.uid);
}

TEST(CardUserTest, OnlyRootMayNameAnotherUser) {
  if (::geteuid() == 0) {
    Result<CardUser> nobody = ResolveCardUser("nobody");
    ASSERT_TRUE(nobody.ok()) << nobody.message();
    EXPECT_TRUE(nobody->switches);
    EXPECT_EQ(nobody->name, "nobody");
  } else {
    Result<CardUser> root = ResolveCardUser("root");
    ASSERT_FALSE(root.ok());
    EXPECT_NE(root.message().find("only a node started as root"), std::string::npos);
    Result<CardUser> self = ResolveCardUser(std::to_string(::geteuid()));
    ASSERT_TRUE(self.ok()) << self.message();
    EXPECT_FALSE(self->switches);
  }
  EXPECT_EQ(ResolveCardUser("no-such-user-hollerith-test").message(),
            "--run-as no-such-user-hollerith-test: no such user");
}

TEST(CardUserTest, SecretsReadableByTheCardUserAreRefused) {
  testing::TempDir dir;
  const std::string token = dir.Write("token", "t0ken");
  CardUser user{.name = "cards", .uid = 54321, .gid = 54321, .groups = {54321}, .switches = true};
  ASSERT_EQ(::chmod(token.c_str(), 0644), 0);
  Status open = CheckNotReadableBy(user, token);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.message(), token +
                                " (mode 0644) is readable by cards, the user cards run as: a "
                                "card could read it; chmod 600 it");
  EXPECT_EQ(open.message().find("t0ken"), std::string::npos) << "never the secret itself";
  ASSERT_EQ(::chmod(token.c_str(), 0600), 0);
  EXPECT_TRUE(CheckNotReadableBy(user, token).ok());
}

}  // namespace
}  // namespace hollerith
