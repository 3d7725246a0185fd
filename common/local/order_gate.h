// OrderGate: a CardExecutor in front of the real one that runs a local run's cards one at a
// time, in a chosen sequence (`hollerith explore`'s orders, `hollerith replay`'s recorded one).
//
// A card asking to run is held until it is its turn: the first card of the sequence that has not
// ended. The card whose turn it is runs to its end, retries included, before the next one starts,
// so the sequence is exactly the order the cards ran in. Cards that end without running (skipped
// after a failed dependency, failed before they could start) are passed over: the gate learns
// that from the core after each event (OnEvent, to call from LocalRunOptions::on_event). Since the
// sequence is a topological order, the card whose turn it is always asks eventually; a guard
// still never waits forever: when no card runs, some wait, and the one whose turn it is has not
// asked for `stall_limit`, the gate goes on without it and says so (deviations()).
//
// Which card asks is told by the address of its CardSpec, which is the job's (the stack runner
// runs `stack.cards[i]` of the stack it was assigned). A run-time matrix makes a new job during
// the run: the gate then asks `sequencer` again for the new job's sequence and keeps the cards
// whose turn has passed where they were. A card that is in no sequence runs when no card runs and
// the one whose turn it is has not asked. Once the job is no longer running, every card passes.
//
// The run's LocalRunOptions::jobs must leave room for every stack to hold a slot at once: a held
// card keeps the slot its stack got, and the gate, not the slots, decides what runs.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/core/scheduler_core.h"
#include "common/runner/card_runner.h"

namespace hollerith {

class OrderGate : public CardExecutor {
 public:
  // The sequence to follow for a job (called again when a run-time matrix makes a new one).
  using Sequencer = std::function<std::vector<CardRef>(const JobSpec& job)>;
  struct Options {
    std::chrono::milliseconds stall_limit{std::chrono::seconds(60)};
  };

  OrderGate(asio::io_context& io, CardExecutor& inner, Sequencer sequencer, Options options);
  ~OrderGate() override;

  // After every event the core accepted (LocalRunOptions::on_event), the core of the run.
  void OnEvent(const SchedulerCore& core);

  uint64_t Run(const CardSpec& card, const CardLaunch& launch, Done done) override;
  void Cancel(uint64_t handle) override;
  bool ReadOutput(uint64_t handle, bool err, size_t from, size_t max, std::string* data,
                  size_t* total) override;

  // Every card the gate let run, in the order it did (a retry appears again).
  const std::vector<CardRef>& started() const { return started_; }
  // Where the run did not follow the sequence, for people ("waited 60 s for A.x, ...").
  const std::vector<std::string>& deviations() const { return deviations_; }

 private:
  struct Held {
    std::optional<CardRef> card;  // none: a CardSpec of no job the gate knows
    const CardSpec* spec = nullptr;
    CardLaunch launch;
    Done done;
  };

  void Index(const std::shared_ptr<const JobSpec>& job);
  void Resequence();
  std::optional<CardRef> Identify(const CardSpec* spec);
  bool InTurnOrder(CardRef card) const;  // in the rest of the sequence
  bool Ended(CardRef card) const;
  void Pump();
  void Admit(uint64_t handle);
  bool Blocking() const;
  void WatchForStall();
  void OnStall();
  std::string Name(CardRef card) const;

  asio::io_context& io_;
  CardExecutor& inner_;
  Sequencer sequencer_;
  Options options_;
  asio::steady_timer stall_timer_;
  const SchedulerCore* core_ = nullptr;
  const JobSpec* sequenced_job_ = nullptr;
  std::vector<std::shared_ptr<const JobSpec>> jobs_;  // kept so that addresses stay theirs
  std::map<const CardSpec*, CardRef> cards_;
  std::vector<CardRef> sequence_;
  size_t next_ = 0;  // sequence_[next_] is the card whose turn it is
  std::map<CardRef, size_t> position_;
  std::set<CardRef> passed_;  // whose turn has come and gone
  std::map<uint64_t, Held> held_;
  struct Running {
    uint64_t inner = 0;  // the inner executor's handle
    std::optional<CardRef> card;
  };
  std::map<uint64_t, Running> running_;  // by the gate's handle
  uint64_t next_handle_ = 0;
  bool pass_all_ = false;
  std::vector<CardRef> started_;
  std::vector<std::string> deviations_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace hollerith
