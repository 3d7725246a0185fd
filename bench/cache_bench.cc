// hollerith-cache-bench: what the result cache costs the coordinator per card that misses (issue
// 27), in one process, without the network: N stacks of one cacheable no-op card each go through
// a scheduler core as the coordinator drives it (placement, the card's start and finish) with the
// coordinator's cache wiring (CardCache over a ResultCache file in a temp dir, group-committed
// every 500 cards) and, alternating in the same run, without `cache:`. Every key is new, so every
// lookup misses and every success is kept. Prints µs per card for both and the difference.
//   hollerith-cache-bench [--stacks 20000] [--reps 3]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/base/simulated_time.h"
#include "common/cache/card_cache.h"
#include "common/core/result_document.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace hollerith;

std::shared_ptr<const JobSpec> Job(size_t stacks, bool cache, const std::string& version) {
  auto job = std::make_shared<JobSpec>();
  job->name = "bench";
  for (size_t s = 0; s < stacks; ++s) {
    StackSpec stack;
    stack.id = "s" + std::to_string(s);
    CardSpec card;
    card.id = "c";
    card.builtin = BuiltinKind::kNoop;
    card.cache = cache;
    card.mutable_cache_version() = version + "-" + std::to_string(s);  // every key new: all miss
    stack.cards.push_back(std::move(card));
    job->stacks.push_back(std::move(stack));
  }
  return job;
}

// Seconds for the job to go through a core (and the cache, when `cache` is set).
double RunOnce(size_t stacks, CardCache* cache, ResultCache* entries, const std::string& version) {
  LamportClock clock;
  SimulatedTime time;
  SchedulerCore core(Job(stacks, cache != nullptr, version), clock, time, "coordinator");
  const CacheScope scope{"default", "bench-" + version, "bench", CacheMode::kOn};
  CacheNotes notes;
  const auto start = Clock::now();
  core.Start();
  for (auto actions = core.TakeActions(); !actions.empty(); actions = core.TakeActions()) {
    for (const CoreAction& a : actions) {
      if (const auto* p = std::get_if<PlaceStackAction>(&a)) {
        core.StackPlaced(p->stack, p->attempt, "w");
      } else if (const auto* q = std::get_if<CacheQueryAction>(&a)) {
        (void)cache->Lookup(scope, core, *q, &notes[q->card]);
      } else if (const auto* assign = std::get_if<AssignStackMsg>(&a)) {
        const CardRef card{assign->stack, 0};
        VectorClock vc;
        vc.Tick(card.stack);
        core.CardStarted({card, 1, 1, "w", vc, clock.Tick(), 0});
        CardFinishedMsg f;
        f.card = card;
        f.attempt = 1;
        f.try_no = 1;
        f.node = "w";
        vc.Tick(card.stack);
        f.vc = vc;
        f.lamport = clock.Tick();
        f.succeeded = true;
        f.exit_code = 0;
        core.CardFinished(f);
        if (cache) cache->Record(scope, core, card);
        if (entries && card.stack % 500 == 499) (void)entries->Flush();
      }
    }
  }
  if (entries) (void)entries->Flush();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  size_t stacks = 20000;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--stacks") == 0) stacks = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
  }
  char pattern[] = "/tmp/hollerith-cache-bench-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return 2;
  const std::filesystem::path dir = pattern;
  auto entries = ResultCache::Open(dir / "cache.db", 0);
  if (!entries.ok()) {
    std::fprintf(stderr, "%s\n", entries.message().c_str());
    return 2;
  }
  ArtifactStore artifacts(dir / "artifacts");
  CardCache cache(entries->get(), "", &artifacts, &artifacts);
  std::vector<double> on, off;
  for (int r = 0; r < reps; ++r) {  // A B A B: the machine's noise hits both alike
    on.push_back(RunOnce(stacks, &cache, entries->get(), std::to_string(r)) / stacks * 1e6);
    off.push_back(RunOnce(stacks, nullptr, nullptr, std::to_string(r)) / stacks * 1e6);
  }
  std::sort(on.begin(), on.end());
  std::sort(off.begin(), off.end());
  const double on_us = on[on.size() / 2], off_us = off[off.size() / 2];
  std::printf(
      "cache bench: %zu cards, median of %d: with cache %.2f us/card, without %.2f us/card,"
      " the cache adds %.2f us per card that misses (lookup, note, entry kept)\n",
      stacks, reps, on_us, off_us, on_us - off_us);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
