#include "common/runner/card_runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

#include "card_runner_fixture.h"
#include "tests/support/temp_dir.h"

namespace hollerith {
namespace {

TEST_F(CardRunnerTest, ExitZeroCapturesStdoutAndStderrExactly) {
  auto r = RunCard(Shell("printf 'hello\\nworld\\n'; printf 'oops\\0tail' >&2"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->succeeded()) << r->error;
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->term_signal, 0);
  EXPECT_EQ(r->error, "");
  EXPECT_EQ(r->out.text, "hello\nworld\n");
  EXPECT_EQ(r->out.total_bytes, 12u);
  EXPECT_FALSE(r->out.truncated);
  EXPECT_EQ(r->err.text, std::string("oops\0tail", 9));
  EXPECT_FALSE(r->err.truncated);
  EXPECT_TRUE(r->err.spill_path.empty());
}

TEST_F(CardRunnerTest, NonZeroExitCodeIsReportedWithoutError) {
  auto r = RunCard(Shell("echo partial; exit 3"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->error, "");
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->out.text, "partial\n");
}

TEST_F(CardRunnerTest, KilledBySignalIsReported) {
  auto r = RunCard(Shell("kill -9 $$"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_EQ(r->error, "killed by signal 9 (SIGKILL)");
  EXPECT_FALSE(r->succeeded());
}

TEST_F(CardRunnerTest, OutputBeyondCaptureLimitSpillsWholeStreamToWorkspace) {
  CardLaunch launch = launch_;
  launch.capture_limit = 1000;
  CardSpec card = Shell("seq 1 50000; echo small >&2");
  card.id = "big/out";
  auto r = RunCard(card, launch);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->succeeded()) << r->error;

  std::string expected;
  for (int i = 1; i <= 50000; ++i) expected += std::to_string(i) + "\n";
  EXPECT_TRUE(r->out.truncated);
  EXPECT_EQ(r->out.total_bytes, expected.size());
  EXPECT_EQ(r->out.text, expected.substr(0, 1000));
  ASSERT_FALSE(r->out.spill_path.empty());
  fs::path spill(r->out.spill_path);
  EXPECT_EQ(spill.parent_path(), workspace_ / ".hollerith");
  EXPECT_EQ(spill.filename().string().rfind("big_out.", 0), 0u) << spill;
  EXPECT_EQ(ReadFile(spill), expected);

  EXPECT_FALSE(r->err.truncated);
  EXPECT_EQ(r->err.text, "small\n");
  EXPECT_TRUE(r->err.spill_path.empty());
}

TEST_F(CardRunnerTest, BothStreamsSpillToSeparateFiles) {
  CardLaunch launch = launch_;
  launch.capture_limit = 10;
  auto r = RunCard(Shell("seq 1 5000; seq 5001 9000 >&2"), launch);
  ASSERT_TRUE(r);
  std::string out;
  for (int i = 1; i <= 5000; ++i) out += std::to_string(i) + "\n";
  std::string err;
  for (int i = 5001; i <= 9000; ++i) err += std::to_string(i) + "\n";
  ASSERT_TRUE(r->out.truncated);
  ASSERT_TRUE(r->err.truncated);
  EXPECT_NE(r->out.spill_path, r->err.spill_path);
  EXPECT_EQ(r->out.text, out.substr(0, 10));
  EXPECT_EQ(r->err.text, err.substr(0, 10));
  EXPECT_EQ(ReadFile(r->out.spill_path), out);
  EXPECT_EQ(ReadFile(r->err.spill_path), err);
  EXPECT_EQ(r->err.total_bytes, err.size());

  // A second run of the same card does not overwrite the first run's spill files.
  auto again = RunCard(Shell("seq 1 5000; seq 5001 9000 >&2"), launch);
  ASSERT_TRUE(again);
  EXPECT_NE(again->out.spill_path, r->out.spill_path);
  EXPECT_EQ(ReadFile(r->out.spill_path), out);
}

TEST_F(CardRunnerTest, OutputExactlyAtLimitIsNotTruncated) {
  CardLaunch launch = launch_;
  launch.capture_limit = 6;
  auto r = RunCard(Shell("printf 123456"), launch);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, "123456");
  EXPECT_FALSE(r->out.truncated);
  EXPECT_TRUE(r->out.spill_path.empty());
}

TEST_F(CardRunnerTest, EnvironmentIsBaseThenCardThenLaunchNeverTheDaemons) {
  ASSERT_EQ(::setenv("HOLLERITH_TEST_INHERITED", "daemon-secret", 1), 0);
  ASSERT_EQ(::setenv("HOLLERITH_TEST_B", "daemon-secret", 1), 0);
  CardSpec card = Shell("echo \"[$HOLLERITH_TEST_INHERITED] $A $HOLLERITH_TEST_B $C $LANG\"");
  card.mutable_env() = {
      {"A", "card-a"}, {"HOLLERITH_TEST_B", "card-b"}, {"C", "card-c"}, {"LANG", "C"}};
  CardLaunch launch = launch_;
  launch.extra_env = {{"C", "launch-c"}};
  auto r = RunCard(card, launch);
  ::unsetenv("HOLLERITH_TEST_INHERITED");
  ::unsetenv("HOLLERITH_TEST_B");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, "[] card-a card-b launch-c C\n");
}

TEST_F(CardRunnerTest, EnvironmentHoldsOnlyTheDocumentedBase) {
  ASSERT_EQ(::setenv("HOLLERITH_TEST_SECRET", "hunter2", 1), 0);
  CardSpec card;
  card.id = "env";
  card.mutable_argv() = {"env"};  // no shell: it would add PWD and friends
  auto r = RunCard(card);
  ::unsetenv("HOLLERITH_TEST_SECRET");
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->succeeded()) << r->error << r->err.text;
  EXPECT_EQ(r->out.text, std::string("PATH=") + kCardDefaultPath + "\nHOME=" + workspace_.string() +
                             "\nLANG=C.UTF-8\n");
  EXPECT_EQ(r->out.text.find("hunter2"), std::string::npos);
}

TEST_F(CardRunnerTest, WorkingDirectoryIsTheWorkspace) {
  auto r = RunCard(Shell("pwd -P; echo x > made-here"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, workspace_.string() + "\n");
  EXPECT_TRUE(fs::exists(workspace_ / "made-here"));
}

TEST_F(CardRunnerTest, RunsAsLeaderOfItsOwnProcessGroup) {
  auto r = RunCard(Shell("echo $$; cut -d' ' -f5 /proc/$$/stat"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->succeeded()) << r->error << r->err.text;
  std::istringstream lines(r->out.text);
  pid_t pid = 0;
  pid_t pgid = 0;
  lines >> pid >> pgid;
  EXPECT_GT(pid, 0);
  EXPECT_EQ(pgid, pid);
  EXPECT_NE(pgid, ::getpgid(0));
}

TEST_F(CardRunnerTest, IgnoredSignalsOfTheDaemonAreNotInherited) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &previous), 0);
  // With SIGPIPE ignored, `yes` would see EPIPE and complain on stderr instead of dying quietly.
  auto r = RunCard(Shell("yes | head -n 1"));
  ::sigaction(SIGPIPE, &previous, nullptr);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->succeeded()) << r->error;
  EXPECT_EQ(r->out.text, "y\n");
  EXPECT_EQ(r->err.text, "");
}

TEST_F(CardRunnerTest, StdinIsDevNull) {
  auto r = RunCard(Shell("cat; echo end"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, "end\n");
}

TEST_F(CardRunnerTest, ArgvRunsWithoutShellAndResolvesPath) {
  CardSpec card;
  card.id = "argv";
  card.mutable_argv() = {"printf", "%s|%s|%s", "a b", "$HOME", "*"};
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->succeeded()) << r->error;
  EXPECT_EQ(r->out.text, "a b|$HOME|*");
}

TEST_F(CardRunnerTest, MissingBinaryFailsWithItsName) {
  CardSpec card;
  card.mutable_argv() = {"nosuchbin-hollerith"};
  bool called = false;
  std::optional<CardResult> result;
  runner().Run(card, launch_, [&](CardResult r) {
    called = true;
    result = std::move(r);
  });
  EXPECT_FALSE(called) << "done must not run inside Run()";
  RunUntil([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->succeeded());
  EXPECT_EQ(result->exit_code, -1);
  EXPECT_EQ(result->error, "cannot start 'nosuchbin-hollerith': No such file or directory");
}

TEST_F(CardRunnerTest, MissingWorkspaceFailsClearly) {
  CardLaunch launch = launch_;
  launch.workspace = workspace_ / "absent";
  auto r = RunCard(Shell("true"), launch);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->succeeded());
  EXPECT_NE(r->error.find("absent"), std::string::npos) << r->error;
}

TEST_F(CardRunnerTest, CardWithNothingToRunFails) {
  CardSpec card;
  card.id = "empty";
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->succeeded());
  EXPECT_NE(r->error.find("nothing to run"), std::string::npos) << r->error;
}

TEST_F(CardRunnerTest, TimeoutKillsTheWholeProcessGroup) {
  CardSpec card = Shell("sleep 1000 & echo $! > grandchild.pid; sleep 1000; wait");
  card.timeout = milliseconds(300);
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->error, "timed out after 300ms");
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGTERM);
  EXPECT_GE(r->duration, milliseconds(300));

  std::string pid_text = ReadFile(workspace_ / "grandchild.pid");
  ASSERT_FALSE(pid_text.empty()) << "the card never reported its background child";
  pid_t grandchild = std::stoi(pid_text);
  // Its end of the pipes is closed, so it is exiting; the pidfd says when it is done.
  EXPECT_TRUE(ExitsWithin(grandchild, milliseconds(5000)));
}

TEST_F(CardRunnerTest, TimeoutMessageInSeconds) {
  CardSpec card = Shell("exec sleep 1000");
  card.timeout = milliseconds(1000);
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "timed out after 1s");
}

TEST_F(CardRunnerTest, TermIgnoringChildIsKilledAfterGrace) {
  CardSpec card = Shell("trap '' TERM; sleep 1000 & wait; wait");
  card.timeout = milliseconds(200);
  CardLaunch launch = launch_;
  launch.kill_grace = milliseconds(300);
  auto r = RunCard(card, launch);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_EQ(r->error, "timed out after 200ms");
  EXPECT_GE(r->duration, milliseconds(500));
}

TEST_F(CardRunnerTest, CancelStopsARunningCard) {
  std::optional<CardResult> result;
  uint64_t handle =
      runner().Run(Shell("exec sleep 1000"), launch_, [&](CardResult r) { result = std::move(r); });
  runner().Cancel(handle);
  EXPECT_FALSE(result) << "done must not run inside Cancel()";
  RunUntil([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_EQ(result->error, "cancelled");
  EXPECT_FALSE(result->timed_out);
  EXPECT_EQ(result->term_signal, SIGTERM);
  EXPECT_FALSE(result->succeeded());
}

TEST_F(CardRunnerTest, CancelUnknownHandleIsHarmless) {
  runner().Cancel(987654);
  auto r = RunCard(Shell("true"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->succeeded());
}

TEST_F(CardRunnerTest, ExitWaitsForBackgroundOutputButOnlyUpToTheDrainBound) {
  CardSpec card = Shell("echo main; (sleep 1000; echo never) & echo $! > bg.pid");
  CardLaunch launch = launch_;
  launch.output_drain = milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  auto r = RunCard(card, launch);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->succeeded()) << r->error;
  EXPECT_EQ(r->out.text, "main\n");
  EXPECT_GE(elapsed, milliseconds(200));
  EXPECT_LT(elapsed, milliseconds(10000));
  // The runner leaves stray processes of a finished card alone; clean up its whole group.
  pid_t bg = std::stoi(ReadFile(workspace_ / "bg.pid"));
  pid_t group = ::getpgid(bg);
  ASSERT_GT(group, 0);
  EXPECT_NE(group, ::getpgid(0));
  ::kill(-group, SIGKILL);
}

TEST_F(CardRunnerTest, BackgroundOutputWithinDrainBoundIsCaptured) {
  auto r = RunCard(Shell("(sleep 0.2; echo late) & echo early"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.text, "early\nlate\n");
}

TEST_F(CardRunnerTest, NoopBuiltinCompletesOnTheLoop) {
  CardSpec card;
  card.builtin = BuiltinKind::kNoop;
  std::optional<CardResult> result;
  runner().Run(card, launch_, [&](CardResult r) { result = std::move(r); });
  EXPECT_FALSE(result);
  RunUntil([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->succeeded());
  EXPECT_EQ(result->exit_code, 0);
}

TEST_F(CardRunnerTest, SleepBuiltinWaitsThenSucceeds) {
  CardSpec card;
  card.builtin = BuiltinKind::kSleep;
  card.sleep = milliseconds(150);
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->succeeded()) << r->error;
  EXPECT_GE(r->duration, milliseconds(150));
}

TEST_F(CardRunnerTest, SleepBuiltinRespectsTimeout) {
  CardSpec card;
  card.builtin = BuiltinKind::kSleep;
  card.sleep = milliseconds(100000);
  card.timeout = milliseconds(100);
  auto r = RunCard(card);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->error, "timed out after 100ms");
  EXPECT_FALSE(r->succeeded());
}

TEST_F(CardRunnerTest, SleepBuiltinCanBeCancelled) {
  CardSpec card;
  card.builtin = BuiltinKind::kSleep;
  card.sleep = milliseconds(100000);
  std::optional<CardResult> result;
  uint64_t handle = runner().Run(card, launch_, [&](CardResult r) { result = std::move(r); });
  runner().Cancel(handle);
  EXPECT_FALSE(result);
  RunUntil([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_EQ(result->error, "cancelled");
  EXPECT_FALSE(result->succeeded());
}

TEST_F(CardRunnerTest, FiftyConcurrentCardsAllComplete) {
  constexpr int kCards = 50;
  std::vector<std::optional<CardResult>> results(kCards);
  int completed = 0;
  for (int i = 0; i < kCards; ++i) {
    CardSpec card = Shell("sleep 0.1; echo $N; echo err$N >&2");
    card.mutable_env() = {{"N", std::to_string(i)}};
    runner().Run(card, launch_, [&, i](CardResult r) {
      EXPECT_FALSE(results[i]) << "done ran twice for card " << i;
      results[i] = std::move(r);
      ++completed;
    });
  }
  RunUntil([&] { return completed == kCards; });
  ASSERT_EQ(completed, kCards);
  for (int i = 0; i < kCards; ++i) {
    ASSERT_TRUE(results[i]);
    EXPECT_TRUE(results[i]->succeeded()) << results[i]->error;
    EXPECT_EQ(results[i]->out.text, std::to_string(i) + "\n");
    EXPECT_EQ(results[i]->err.text, "err" + std::to_string(i) + "\n");
  }
}

TEST_F(CardRunnerTest, DoneMayStartTheNextCard) {
  int remaining = 20;
  std::function<void(CardResult)> next = [&](CardResult r) {
    EXPECT_TRUE(r.succeeded()) << r.error;
    if (--remaining > 0) runner().Run(Shell("true"), launch_, next);
  };
  runner().Run(Shell("true"), launch_, next);
  RunUntil([&] { return remaining == 0; });
  EXPECT_EQ(remaining, 0);
}

TEST_F(CardRunnerTest, DestroyingTheRunnerKillsRunningChildrenWithoutCallbacks) {
  fs::path fifo = workspace_ / "pid.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);

  bool called = false;
  auto runner = std::make_unique<ProcessCardRunner>(io_);
  runner->Run(Shell("echo $$ > pid.fifo; exec sleep 1000"), launch_,
              [&](CardResult) { called = true; });
  CardSpec sleeper;
  sleeper.builtin = BuiltinKind::kSleep;
  sleeper.sleep = milliseconds(100000);
  runner->Run(sleeper, launch_, [&](CardResult) { called = true; });
  CardSpec noop;
  noop.builtin = BuiltinKind::kNoop;
  runner->Run(noop, launch_, [&](CardResult) { called = true; });

  // Wait (with a deadline) for the child to announce itself, so it is surely running.
  pollfd p{reader, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, static_cast<int>(kDeadline.count())), 1);
  char buf[32] = {};
  ASSERT_GT(::read(reader, buf, sizeof buf - 1), 0);
  ::close(reader);
  pid_t child = std::atoi(buf);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::kill(child, 0), 0);

  runner.reset();
  // The runner killed and reaped it: the pid no longer exists at all.
  EXPECT_EQ(::kill(child, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  // Handlers still queued must notice the runner is gone.
  io_.restart();
  io_.run_for(milliseconds(100));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace hollerith
