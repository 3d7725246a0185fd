// Cards in the simulator: no process runs. A card's command says what it does ("sim JOB CARD EXIT
// OUT": the job's tag, its STACK.CARD name, its exit code and its stdout), so a simulated run and
// `run --local` of the same spec agree on every card's result by construction. A card runs until
// the simulator completes it (a step of the schedule). `Truth` is what really happened, whatever
// the coordinator recorded: the first invariant is checked against it when a card starts.
#pragma once

#include <asio/io_context.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/runner/card_runner.h"

namespace hollerith::sim {

// A card's command, decoded.
struct SimCard {
  std::string job;   // the job's tag in the simulation
  std::string name;  // STACK.CARD
  int exit_code = 0;
  std::string out;
};
// "sim JOB CARD EXIT OUT"; false if `shell` is not one.
bool ParseSimCard(const std::string& shell, SimCard* card);
std::string SimCardCommand(const SimCard& card);

// Cards that succeeded somewhere (by job tag and name), and the first violation seen.
struct Truth {
  std::set<std::pair<std::string, std::string>> succeeded;
  // Per job tag: each card's dependencies (the card before it in its stack, `after`, inputs).
  std::map<std::string, std::map<std::string, std::vector<std::string>>> dependencies;
  std::string violation;
  size_t cards_run = 0;
};

class SimExecutor : public CardExecutor {
 public:
  struct Running {
    SimCard card;
    Done done;
  };
  // `auto_complete`: every card ends as soon as it starts (for `run --local`'s expected results).
  SimExecutor(asio::io_context& io, Truth& truth, std::string node, bool auto_complete = false)
      : io_(io), truth_(truth), node_(std::move(node)), auto_complete_(auto_complete) {}

  uint64_t Run(const CardSpec& card, const CardLaunch& launch, Done done) override;
  void Cancel(uint64_t handle) override;
  // The card ends as its command says (its `done` is posted on the node's loop).
  void Complete(uint64_t handle);
  const std::map<uint64_t, Running>& running() const { return running_; }

 private:
  asio::io_context& io_;
  Truth& truth_;
  std::string node_;
  bool auto_complete_;
  uint64_t next_ = 0;
  std::map<uint64_t, Running> running_;
};

}  // namespace hollerith::sim
