// A CardExecutor for tests: cards never run a process; they wait until the test completes them,
// in whatever order it likes, with whatever exit code it likes.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <functional>
#include <map>
#include <random>
#include <string>

#include "common/runner/card_runner.h"

namespace hollerith::testing {

class FakeExecutor : public CardExecutor {
 public:
  struct Running {
    const CardSpec* card;
    Done done;
  };
  explicit FakeExecutor(asio::io_context& io) : io_(io) {}

  uint64_t Run(const CardSpec& card, const CardLaunch&, Done done) override {
    uint64_t h = ++next_;
    running_[h] = {&card, std::move(done)};
    ++started_;
    return h;
  }
  void Cancel(uint64_t handle) override { Complete(handle, -1, "cancelled"); }

  // Completes one running card (posting its callback), as a finished process would.
  void Complete(uint64_t handle, int exit_code, std::string error = "", std::string out = "") {
    auto it = running_.find(handle);
    if (it == running_.end()) return;
    CardResult r;
    r.exit_code = exit_code;
    r.error = std::move(error);
    r.out.text = std::move(out);
    asio::post(io_, [done = std::move(it->second.done), r] { done(r); });
    running_.erase(it);
  }
  // Completes a random running card; returns false when none is running.
  bool CompleteRandom(std::mt19937& rng, const std::function<int(const CardSpec&)>& exit_code) {
    if (running_.empty()) return false;
    auto it = running_.begin();
    std::advance(it, std::uniform_int_distribution<size_t>(0, running_.size() - 1)(rng));
    Complete(it->first, exit_code(*it->second.card), "", it->second.card->id);
    return true;
  }
  const std::map<uint64_t, Running>& running() const { return running_; }
  size_t started() const { return started_; }

 private:
  asio::io_context& io_;
  uint64_t next_ = 0;
  size_t started_ = 0;
  std::map<uint64_t, Running> running_;
};

}  // namespace hollerith::testing
