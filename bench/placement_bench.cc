// hollerith-placement-bench: what one placement decision costs (issue 26). For each fleet size,
// W fake workers of four shapes (two label sets, three capacities, some with gpus) take 100,000
// waiting stacks of 3 tenants (mixed requests: cpu, cpu+memory, gpu; a tenant with a quota) the
// way the coordinator places them: the tenant's quota check (QuotaProblem), the choice
// (Placement::Choose) and the booking (Placement::Place and the tenant's books); half of the time
// an earlier stack ends first (Unplace), so loads move. Every decision is timed alone; prints the
// median and p99 per fleet size and the ratio of the largest to the smallest fleet's median (flat
// means the cost does not grow with the workers).
//   hollerith-placement-bench [--stacks 100000] [--workers 1000,2000,5000,10000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "coordinator/placement.h"
#include "coordinator/tenants.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace hollerith;
using namespace hollerith::coordinator;

struct Row {
  size_t workers;
  double median_ns, p99_ns;
  size_t placed, waited;
};

Row Run(size_t workers, size_t stacks) {
  Placement placement;
  const std::vector<std::string> shapes = {"cpu=8,memory=32GiB", "cpu=16,memory=64GiB",
                                           "cpu=32,memory=128GiB,gpu=4"};
  for (size_t i = 0; i < workers; ++i) {
    Labels labels = {{"zone", i % 2 ? "eu" : "us"}};
    placement.AddWorker(i + 1, "w" + std::to_string(i), labels,
                        ParseResourceList(shapes[i % shapes.size()]).value());
  }
  auto table = TenantTable::Parse(
                   "tenants:\n  ml: {weight: 2, quota: {gpu: 400}}\n  web: {weight: 1}\n"
                   "  batch: {weight: 1, quota: {cpu: 1000000}}\n",
                   "bench")
                   .value();
  const std::vector<std::string> tenants = {"ml", "web", "batch"};
  std::vector<StackSpec> kinds(4);
  kinds[0].resources = ParseResourceList("cpu=1").value();
  kinds[1].resources = ParseResourceList("cpu=2,memory=4GiB").value();
  kinds[2].resources = ParseResourceList("cpu=4,gpu=1").value();
  kinds[3].resources = ParseResourceList("cpu=1").value();
  kinds[3].labels = {{"zone", "eu"}};
  std::map<std::string, TenantBooks> books;
  std::vector<std::pair<uint64_t, size_t>> placed;  // (worker, kind)
  std::vector<double> ns;
  ns.reserve(stacks);
  std::mt19937 rng(42);
  size_t waited = 0;
  for (size_t i = 0; i < stacks; ++i) {
    const size_t kind = rng() % kinds.size();
    const std::string& tenant = tenants[i % tenants.size()];
    if (!placed.empty() && rng() % 2) {  // an earlier stack ends
      const size_t j = rng() % placed.size();
      placement.Unplace(placed[j].first, kinds[placed[j].second].resources);
      placed[j] = placed.back();
      placed.pop_back();
    }
    const StackSpec& stack = kinds[kind];
    const auto start = Clock::now();
    TenantBooks& b = books[tenant];
    const TenantPolicy& policy = table.Of(tenant);
    bool ok = !policy.has_quota() || QuotaProblem(tenant, policy, b, stack.resources).empty();
    if (ok) {
      PlacementChoice choice = placement.Choose(stack);
      ok = choice.worker != 0;
      if (ok) {
        placement.Place(choice.worker, stack.resources);
        b.placed += stack.resources;
        ++b.stacks;
        placed.emplace_back(choice.worker, kind);
      }
    }
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
    waited += !ok;
  }
  std::sort(ns.begin(), ns.end());
  return {workers, ns[ns.size() / 2], ns[ns.size() * 99 / 100], placed.size(), waited};
}

}  // namespace

int main(int argc, char** argv) {
  size_t stacks = 100000;
  std::vector<size_t> fleets = {1000, 2000, 5000, 10000};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--stacks") == 0) {
      stacks = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (std::strcmp(argv[i], "--workers") == 0) {
      fleets.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string n; std::getline(list, n, ',');) fleets.push_back(std::stoull(n));
    } else {
      std::fprintf(stderr, "usage: %s [--stacks N] [--workers 1000,2000,...]\n", argv[0]);
      return 2;
    }
  }
  std::printf("%zu stacks of 3 tenants per fleet; one decision = quota check + choice + booking\n",
              stacks);
  std::printf("%8s  %12s  %12s  %8s\n", "workers", "median ns", "p99 ns", "waited");
  std::vector<Row> rows;
  for (size_t w : fleets) {
    rows.push_back(Run(w, stacks));
    std::printf("%8zu  %12.0f  %12.0f  %8zu\n", w, rows.back().median_ns, rows.back().p99_ns,
                rows.back().waited);
    std::fflush(stdout);
  }
  if (rows.size() > 1) {
    std::printf(
        "median at %zu workers / at %zu workers: %.2fx (for %.0fx the workers)\n",
        rows.back().workers, rows.front().workers, rows.back().median_ns / rows.front().median_ns,
        static_cast<double>(rows.back().workers) / static_cast<double>(rows.front().workers));
  }
  return 0;
}
