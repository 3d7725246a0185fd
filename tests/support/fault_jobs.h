// Seeded random jobs for fault tests, and the checks every faulted run must pass: the results
// equal `hollerith run --local` of the same spec, the trace verifies, and no dependency was
// released twice to the same attempt.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/support/cluster.h"

namespace hollerith::testing {

// The seed of a fault test: HOLLERITH_FAULT_SEED if set, else a fresh one; printed so that a
// failure can be repeated. Rounds: HOLLERITH_FAULT_ROUNDS if set, else `default_rounds`.
uint64_t FaultSeed();
int FaultRounds(int default_rounds);

// A job of 2-4 stacks of 2-4 shell cards (10-50 ms each), with cross-stack `after` edges, a
// file passed between stacks, and sometimes a combine card. Deterministic results.
std::string RandomJobSpec(std::mt19937_64& rng, const std::string& name);

// Writes `spec` into `dir`, runs it with `hollerith run --local --json`; the result document.
std::string LocalResults(const std::string& dir, const std::string& name, const std::string& spec,
                         std::string* spec_path);

// Empty when `cluster_json` (status --json of the job) has the same card states, exit codes,
// stdout and output digests as `local_json`; otherwise what differs.
std::vector<std::string> CompareResults(const std::string& local_json,
                                        const std::string& cluster_json);

// Exports the job's trace, runs `hollerith verify` and checks that every release (card, target,
// attempt) happened at most once. Empty when all is well; otherwise what is wrong.
std::vector<std::string> CheckTrace(const TestCluster& cluster, const std::string& job,
                                    const std::string& spec_path);

// The trace events of `kind` (release, stack_lost, ...) whose detail contains `detail`, in the
// job's trace as CheckTrace exported it; -1 if there is none.
int CountTraceEvents(const TestCluster& cluster, const std::string& job, const std::string& kind,
                     const std::string& detail = "");

// The job's trace as the coordinator has it now (also while it runs), one event per line: kind,
// card (-> target), attempt, node, Lamport time. What a hung job's failure report shows.
std::string TraceLines(const TestCluster& cluster, const std::string& job);

}  // namespace hollerith::testing
