// The seeded simulator of the whole cluster (docs/simulator.md): the real Coordinator (placement,
// release, leases, epochs and fencing, reconciliation after a restart, its journal on a store that
// can crash) and N real Workers (their state machine, StackHost, outage buffering and claims),
// all in one thread on SimulatedTime, over a network the simulator delivers one message at a time.
// Every choice (which message is delivered next, which card ends, when time moves, which fault
// strikes) comes from one seed: the same seed gives the same schedule.
//
// Faults: streams break (messages in flight lost) and reconnect, deliveries reorder across streams
// (never within one), workers crash and restart, pause past their lease, are partitioned; the
// coordinator crashes (before or after a commit reached the disk) and recovers from its store;
// cards fail and are retried; clients cancel and submit jobs while others run.
//
// Checked after every step: no card starts before the cards it depends on succeeded; the
// coordinator's Lamport clock never goes back across a restart. At the end: every job ended, its
// results equal `run --local`'s (cancelled jobs excepted), its trace passes `verify`.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace hollerith::sim {

struct SimConfig {
  uint64_t seed = 1;
  int workers = 3;
  int jobs = 3;                  // submitted at random steps
  size_t max_steps = 40000;      // a schedule still running then is a liveness failure
  size_t fault_steps = 2000;     // faults strike only during the first steps; then all heals
  double fault_rate = 0.006;     // per step, during fault_steps
  std::set<size_t> skip_faults;  // the faults (by number, in the order drawn) not injected
  bool record = false;           // keep the schedule's steps as readable lines
  std::string trace_dir;         // if set: every job's trace and spec are written there
};

struct SimReport {
  std::string failure;                // empty: every invariant held
  std::vector<std::string> schedule;  // with SimConfig::record
  std::vector<std::string> faults;    // the faults drawn, by number (also those skipped)
  size_t steps = 0;
  size_t cards_run = 0;
  size_t quarantined = 0;  // jobs whose results were not compared: a card was quarantined
};

SimReport Simulate(const SimConfig& config);

// Runs `config` again leaving out faults, one at a time, while it still fails the same way: a
// failing schedule with as few faults as possible (recorded).
SimReport Shrink(SimConfig config, const SimReport& failing);

}  // namespace hollerith::sim
