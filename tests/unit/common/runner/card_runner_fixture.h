// The fixture of the card runner's tests: a real ProcessCardRunner on an io_context, a
// workspace in a temporary directory, and RunCard to run one card to its end.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "common/runner/card_runner.h"
#include "tests/support/temp_dir.h"

namespace hollerith {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr milliseconds kDeadline{20000};

[[maybe_unused]] std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

[[maybe_unused]] CardSpec Shell(std::string line) {
  CardSpec card;
  card.id = "t";
  card.shell = std::move(line);
  return card;
}

// True once `pid` has exited (or no longer exists), waiting up to `within` on its pidfd — an event,
// not a guess.
[[maybe_unused]] bool ExitsWithin(pid_t pid, milliseconds within) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  int n = ::poll(&p, 1, static_cast<int>(within.count()));
  ::close(fd);
  return n == 1;
}

class CardRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workspace_ = fs::canonical(dir_.path());
    launch_.workspace = workspace_;
  }

  // Runs the io_context until `done` fired for this card (or the deadline passed).
  std::optional<CardResult> RunCard(const CardSpec& card) { return RunCard(card, launch_); }
  std::optional<CardResult> RunCard(const CardSpec& card, const CardLaunch& launch) {
    std::optional<CardResult> result;
    runner().Run(card, launch, [&](CardResult r) { result = std::move(r); });
    RunUntil([&] { return result.has_value(); });
    return result;
  }

  template <typename Pred>
  void RunUntil(Pred pred) {
    io_.restart();
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_until(deadline);
    }
  }

  // Replaces the runner with one confined by `sandbox`.
  void UseSandbox(CardSandbox sandbox) {
    runner_ = std::make_unique<ProcessCardRunner>(io_, std::move(sandbox));
  }

  ProcessCardRunner& runner() { return *runner_; }

  asio::io_context io_;
  std::unique_ptr<ProcessCardRunner> runner_ = std::make_unique<ProcessCardRunner>(io_);
  testing::TempDir dir_;
  fs::path workspace_;
  CardLaunch launch_;
};

}  // namespace
}  // namespace hollerith
