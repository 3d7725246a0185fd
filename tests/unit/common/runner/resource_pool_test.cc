// The resource pool: a node's capacity handed to waiting cards by priority, then by the tenants'
// weighted dominant shares, then in the order asked; never more than the capacity; gpus as
// devices; a big request at the head not starved by small ones.
#include "common/runner/resource_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace hollerith {
namespace {

Resources R(const std::string& list) {
  auto r = ParseResourceList(list);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? *r : Resources{};
}

// Runs every posted grant.
void Settle(asio::io_context& io) {
  io.run();
  io.restart();
}

TEST(ResourcePool, WaitersGetResourcesByPriorityThenInOrder) {
  asio::io_context io;
  ResourcePool pool(io, R("cpu=1,memory=1GiB"));
  std::vector<std::string> granted;
  std::deque<ResourceGrant> held;
  auto ask = [&](int priority, std::string name) {
    pool.Acquire(R("cpu=1"), priority, "", 1, [&granted, &held, name](ResourceGrant g) {
      granted.push_back(name);
      held.push_back(std::move(g));
    });
  };
  ask(0, "first");  // takes the free cpu
  ask(0, "low-a");
  ask(5, "high-a");
  ask(-3, "lowest");
  ask(0, "low-b");
  ask(5, "high-b");
  EXPECT_TRUE(granted.empty()) << "granted callbacks are posted, never run inside Acquire";
  Settle(io);
  EXPECT_EQ(granted, (std::vector<std::string>{"first"}));
  EXPECT_EQ(pool.waiting(), 5u);
  for (int i = 0; i < 5; ++i) {
    pool.Release(held.front());
    held.pop_front();
    Settle(io);
  }
  EXPECT_EQ(granted,
            (std::vector<std::string>{"first", "high-a", "high-b", "low-a", "low-b", "lowest"}));
  EXPECT_EQ(pool.in_use(), R("cpu=1"));
  pool.Release(held.front());
  EXPECT_TRUE(pool.in_use().empty());
  EXPECT_EQ(pool.waiting(), 0u);
}

TEST(ResourcePool, CapacityIsNeverExceededUnderRandomAcquireAndRelease) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  asio::io_context io;
  const Resources capacity = R("cpu=8,memory=16GiB,gpu=4,licence=2");
  ResourcePool pool(io, capacity);
  const std::vector<Resources> kinds = {
      R("cpu=1"),       R("cpu=0.5,memory=1GiB"),    R("cpu=2,memory=8GiB"),
      R("gpu=1,cpu=1"), R("gpu=2,memory=2GiB"),      R("licence=1,cpu=0.25"),
      R("cpu=8"),       R("memory=16GiB,licence=2"), Resources{},
  };
  std::vector<ResourceGrant> held;
  size_t asked = 0;
  size_t granted = 0;
  for (int step = 0; step < 5000; ++step) {
    if (held.empty() || rng() % 2 == 0) {
      const int priority = static_cast<int>(rng() % 3);
      const std::string tenant = "t" + std::to_string(rng() % 3);
      ++asked;
      pool.Acquire(kinds[rng() % kinds.size()], priority, tenant, 1 + rng() % 3,
                   [&](ResourceGrant g) {
                     ++granted;
                     held.push_back(std::move(g));
                   });
    } else {
      const size_t i = rng() % held.size();
      pool.Release(held[i]);
      held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
    }
    Settle(io);
    Resources sum;
    std::set<int> gpus;
    for (const auto& g : held) {
      sum += g.request;
      for (int d : g.gpus) ASSERT_TRUE(gpus.insert(d).second) << "gpu " << d << " given twice";
      ASSERT_EQ(g.gpus.size(), g.request.Named(kGpuResource));
    }
    ASSERT_TRUE(capacity.Holds(sum)) << "in use " << FormatResources(sum) << " at step " << step;
    ASSERT_EQ(sum, pool.in_use());
    ASSERT_EQ(asked - granted, pool.waiting());
  }
  while (!held.empty()) {
    pool.Release(held.back());
    held.pop_back();
    Settle(io);
  }
  EXPECT_EQ(pool.waiting(), 0u) << "every request fits the capacity: all are granted in the end";
  EXPECT_EQ(granted, asked);
}

TEST(ResourcePool, WeightedDominantSharesFollowTheWeights) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  asio::io_context io;
  ResourcePool pool(io, R("cpu=64,memory=128GiB"));
  // A is cpu-heavy (its dominant kind cpu: 2/64 a card), B memory-heavy (4GiB/128GiB a card),
  // A weighs twice B: A should hold twice B's dominant share, about 28 cards to B's 14.
  const Resources a = R("cpu=2,memory=1GiB");
  const Resources b = R("cpu=0.5,memory=4GiB");
  std::vector<ResourceGrant> held;
  auto ask = [&](const std::string& tenant) {
    pool.Acquire(tenant == "A" ? a : b, 0, tenant, tenant == "A" ? 2 : 1,
                 [&](ResourceGrant g) { held.push_back(std::move(g)); });
  };
  for (int i = 0; i < 200; ++i) {  // both always have work waiting
    ask("A");
    ask("B");
  }
  Settle(io);
  double ratio_sum = 0;
  int samples = 0;
  for (int step = 0; step < 3000; ++step) {
    const size_t i = rng() % held.size();
    const std::string tenant = held[i].tenant;
    pool.Release(held[i]);
    held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
    ask(tenant);  // the finished card's tenant has more waiting
    Settle(io);
    const double dominant_a = static_cast<double>(pool.in_use("A").cpu_milli) / 64000.0;
    const double dominant_b =
        static_cast<double>(pool.in_use("B").memory_bytes) / static_cast<double>(128ull << 30);
    ASSERT_GT(dominant_b, 0) << "B starved at step " << step;
    if (step >= 100) {
      ratio_sum += dominant_a / dominant_b;
      ++samples;
    }
  }
  const double ratio = ratio_sum / samples;
  EXPECT_NEAR(ratio, 2.0, 0.25) << "dominant share of A over B's, averaged";
  EXPECT_NEAR(pool.share("A"), pool.share("B"), 0.1) << "the weighted shares level out";
}

TEST(ResourcePool, GpusAreDisjointAndAStackGetsItsOwnBack) {
  asio::io_context io;
  ResourcePool pool(io, R("cpu=8,gpu=4"));
  std::vector<ResourceGrant> got;
  auto ask = [&](const std::string& gpus, std::vector<int> previous = {}) {
    pool.Acquire(
        R("cpu=1,gpu=" + gpus), 0, "", 1, [&](ResourceGrant g) { got.push_back(std::move(g)); },
        std::move(previous));
    Settle(io);
    return got.back().gpus;
  };
  EXPECT_EQ(ask("2"), (std::vector<int>{0, 1}));
  EXPECT_EQ(ask("2"), (std::vector<int>{2, 3}));
  pool.Release(got[0]);
  pool.Release(got[1]);
  // The second stack's next card asks for its devices again: it gets them, not the lowest free.
  EXPECT_EQ(ask("2", {2, 3}), (std::vector<int>{2, 3}));
  EXPECT_EQ(ask("1", {3}), (std::vector<int>{0})) << "3 is taken: the lowest free one instead";
  EXPECT_EQ(ask("1", {1}), (std::vector<int>{1}));
  pool.Release(got[2]);
  // One of its previous devices free, the other not needed.
  EXPECT_EQ(ask("1", {3, 2}), (std::vector<int>{3}));
}

TEST(ResourcePool, ABigRequestAtTheHeadIsNotStarvedBySmallOnes) {
  asio::io_context io;
  ResourcePool pool(io, R("cpu=4"));
  std::vector<ResourceGrant> small;
  std::vector<std::string> order;
  auto ask_small = [&](int n) {
    pool.Acquire(R("cpu=1"), 0, "t", 1, [&, n](ResourceGrant g) {
      order.push_back("small" + std::to_string(n));
      small.push_back(std::move(g));
    });
  };
  for (int i = 0; i < 4; ++i) ask_small(i);
  Settle(io);
  ASSERT_EQ(small.size(), 4u);
  bool big = false;
  pool.Acquire(R("cpu=4"), 0, "t", 1, [&](ResourceGrant) {
    big = true;
    order.push_back("big");
  });
  for (int i = 4; i < 50; ++i) {
    ask_small(i);  // a stream of small requests behind it
    if (!small.empty() && !big) {
      pool.Release(small.front());  // each freed cpu would fit a small one, not the big one
      small.erase(small.begin());
    }
    Settle(io);
  }
  EXPECT_TRUE(big);
  ASSERT_GE(order.size(), 5u);
  EXPECT_EQ(order[4], "big") << "granted before any small request that came after it";
  EXPECT_EQ(pool.in_use(), R("cpu=4"));
}

TEST(ResourcePool, EmptyRequestsPassAndImpossibleOnesWaitForever) {
  asio::io_context io;
  ResourcePool pool(io, R("cpu=1"));
  int granted = 0;
  EXPECT_FALSE(pool.CanEverHold(R("gpu=1")));
  EXPECT_FALSE(pool.CanEverHold(R("cpu=2")));
  pool.Acquire(R("gpu=1"), 9, "", 1, [&](ResourceGrant) { granted += 100; });
  pool.Acquire(R("cpu=1"), 0, "", 1, [&](ResourceGrant) { ++granted; });
  pool.Acquire(R("cpu=1"), 0, "", 1, [&](ResourceGrant) { ++granted; });
  pool.Acquire(Resources{}, 0, "", 1, [&](ResourceGrant) { granted += 10; });
  Settle(io);
  EXPECT_EQ(granted, 11)
      << "the impossible request blocks nobody; the empty one passes the waiting cpu";
  EXPECT_EQ(pool.waiting(), 2u);
}

}  // namespace
}  // namespace hollerith
