// The placement policy (coordinator/placement.h) and tenants (coordinator/tenants.h): choices
// against a brute-force reference, the words of every reason to wait, quotas never exceeded
// under random arrivals and ends, and the tenants file's errors.
#include "coordinator/placement.h"

#include <gtest/gtest.h>

#include <random>

#include "coordinator/tenants.h"

namespace hollerith::coordinator {
namespace {

Resources R(const std::string& text) { return ParseResourceList(text).value(); }

StackSpec Stack(const std::string& resources, Labels labels = {}, std::string node = "") {
  StackSpec s;
  s.id = "s";
  s.resources = R(resources);
  s.labels = std::move(labels);
  s.node = std::move(node);
  return s;
}

TEST(Placement, ChoosesTheLeastLoadedWorkerThatCanHoldTheRequestLikeABruteForceScan) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  Placement placement;
  struct Ref {
    std::string name;
    Labels labels;
    Resources capacity, placed;
  };
  std::map<uint64_t, Ref> ref;
  const std::vector<std::string> shapes = {"cpu=2,memory=4GiB", "cpu=8,memory=16GiB,gpu=2",
                                           "cpu=4,memory=8GiB"};
  for (uint64_t id = 1; id <= 60; ++id) {
    Labels labels;
    if (rng() % 2) labels.push_back({"zone", rng() % 2 ? "eu" : "us"});
    Resources capacity = R(shapes[rng() % shapes.size()]);
    std::string name = "w" + std::to_string(id);
    placement.AddWorker(id, name, labels, capacity);
    ref[id] = {name, labels, capacity, {}};
  }
  // Millionths of the dominant share, memory counted in KiB: exactly what Placement compares.
  auto share = [](const Resources& placed, const Resources& capacity) {
    uint64_t s = 0;
    for (const auto& kind : KindsOf(placed, {})) {
      uint64_t used = AmountOf(placed, kind), have = AmountOf(capacity, kind);
      if (kind == "memory") used >>= 10, have >>= 10;
      if (used > 0) s = std::max(s, used * 1'000'000 / have);
    }
    return s;
  };
  const std::vector<std::string> requests = {"cpu=1", "cpu=3,memory=6GiB", "gpu=1", "cpu=0.5",
                                             "gpu=3", "cpu=1,memory=12GiB"};
  std::vector<std::pair<uint64_t, Resources>> placed;
  for (int step = 0; step < 3000; ++step) {
    Labels want;
    if (rng() % 3 == 0) want.push_back({"zone", "eu"});
    const StackSpec stack = Stack(requests[rng() % requests.size()], want);
    const PlacementChoice choice = placement.Choose(stack);
    uint64_t best_id = 0;
    for (const auto& [id, w] : ref) {
      bool labels_ok = true;
      for (const auto& l : want) {
        labels_ok &= std::find(w.labels.begin(), w.labels.end(), l) != w.labels.end();
      }
      if (!labels_ok || !w.capacity.Holds(stack.resources)) continue;
      if (best_id == 0) {
        best_id = id;
        continue;
      }
      const Ref& best = ref[best_id];
      const uint64_t a = share(w.placed, w.capacity), b = share(best.placed, best.capacity);
      if (a < b || (a == b && w.name < best.name)) best_id = id;
    }
    ASSERT_EQ(choice.worker, best_id) << "step " << step << ": " << choice.waiting;
    if (choice.worker == 0) {
      EXPECT_EQ(choice.waiting.rfind("waiting: ", 0), 0u) << choice.waiting;
    } else {
      placement.Place(choice.worker, stack.resources);
      ref[choice.worker].placed += stack.resources;
      placed.emplace_back(choice.worker, stack.resources);
    }
    if (!placed.empty() && rng() % 2) {  // a stack ends somewhere
      const size_t i = rng() % placed.size();
      placement.Unplace(placed[i].first, placed[i].second);
      ref[placed[i].first].placed -= placed[i].second;
      placed.erase(placed.begin() + static_cast<long>(i));
    }
  }
}

TEST(Placement, SaysWhyAStackWaitsInWords) {
  Placement placement;
  EXPECT_EQ(placement.Choose(Stack("cpu=1")).waiting, "waiting: no worker connected");
  placement.AddWorker(1, "small", {{"zone", "eu"}}, R("cpu=2,memory=4GiB,gpu=1"));
  placement.AddWorker(2, "big", {}, R("cpu=8,memory=16GiB"));
  EXPECT_EQ(placement.Choose(Stack("cpu=1", {}, "late")).waiting,
            "waiting: pinned to worker late, which is not connected");
  EXPECT_EQ(placement.Choose(Stack("cpu=1", {{"zone", "us"}})).waiting,
            "waiting: no connected worker has labels zone=us");
  EXPECT_EQ(placement.Choose(Stack("gpu=2")).waiting,
            "waiting: needs gpu=2: no connected worker has that much (the most any has: gpu=1)");
  EXPECT_EQ(placement.Choose(Stack("cpu=4,gpu=1")).waiting,
            "waiting: needs cpu=4, gpu=1: none of the 2 connected workers has all of it at once");
  EXPECT_EQ(placement.Choose(Stack("cpu=4", {}, "small")).waiting,
            "waiting: needs cpu=4: pinned worker small has cpu=2");
  EXPECT_EQ(placement.Choose(Stack("gpu=1")).worker, 1u);
  // Crowded: the stacks placed on a worker ask for more than it has.
  placement.Place(1, R("gpu=1"));
  EXPECT_EQ(placement.Crowded(1, R("gpu=1")), "");
  placement.Place(1, R("gpu=1"));
  EXPECT_EQ(placement.Crowded(1, R("gpu=1")),
            "queued on worker small: needs gpu=1; the 2 stacks placed there ask for gpu=2 of "
            "its gpu=1");
  placement.RemoveWorker(1);
  EXPECT_EQ(placement.Choose(Stack("gpu=1")).waiting,
            "waiting: needs gpu=1: no connected worker has that much (the most any has: gpu=0)");
}

TEST(Placement, CrowdedFollowsTheWorkersBooksWhenAskedAgain) {
  // Crowded remembers its texts per worker until that worker's books change.
  Placement placement;
  placement.AddWorker(1, "a", {}, R("cpu=2"));
  placement.AddWorker(2, "b", {}, R("cpu=2"));
  for (int i = 0; i < 3; ++i) placement.Place(1, R("cpu=1"));
  const std::string three =
      "queued on worker a: needs cpu=1; the 3 stacks placed there ask for cpu=3 of its cpu=2";
  EXPECT_EQ(placement.Crowded(1, R("cpu=1")), three);
  EXPECT_EQ(placement.Crowded(1, R("cpu=1")), three);
  EXPECT_EQ(
      placement.Crowded(1, R("cpu=2")),
      "queued on worker a: needs cpu=2; the 3 stacks placed there ask for cpu=3 of its cpu=2");
  placement.Place(2, R("cpu=1"));  // another worker's books
  EXPECT_EQ(placement.Crowded(1, R("cpu=1")), three);
  placement.Place(1, R("cpu=1"));
  EXPECT_EQ(
      placement.Crowded(1, R("cpu=1")),
      "queued on worker a: needs cpu=1; the 4 stacks placed there ask for cpu=4 of its cpu=2");
  placement.Unplace(1, R("cpu=1"));
  placement.Unplace(1, R("cpu=1"));
  EXPECT_EQ(placement.Crowded(1, R("cpu=1")), "");  // 2 of 2: it fits
  placement.RemoveWorker(1);
  EXPECT_EQ(placement.Crowded(1, R("cpu=1")), "");
}

TEST(Quota, NeverExceededUnderRandomArrivalsAndEnds) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auto table = TenantTable::Parse(R"(tenants:
  ml: {weight: 2, quota: {cpu: 8, gpu: 2, stacks: 5}}
  web: {quota: {memory: 8GiB}}
)",
                                  "tenants.yaml");
  ASSERT_TRUE(table.ok()) << table.message();
  std::map<std::string, TenantBooks> books;
  std::vector<std::pair<std::string, Resources>> running;
  const std::vector<std::string> tenants = {"ml", "web", "other"};
  const std::vector<std::string> requests = {"cpu=1", "cpu=3,gpu=1", "memory=3GiB", "cpu=2"};
  size_t refused = 0;
  for (int step = 0; step < 5000; ++step) {
    const std::string& tenant = tenants[rng() % tenants.size()];
    const Resources request = R(requests[rng() % requests.size()]);
    const TenantPolicy& policy = table->Of(tenant);
    if (QuotaProblem(tenant, policy, books[tenant], request).empty()) {
      books[tenant].placed += request;
      ++books[tenant].stacks;
      running.emplace_back(tenant, request);
    } else {
      ++refused;
    }
    if (!running.empty() && rng() % 3 == 0) {
      const size_t i = rng() % running.size();
      books[running[i].first].placed -= running[i].second;
      --books[running[i].first].stacks;
      running.erase(running.begin() + static_cast<long>(i));
    }
    for (const auto& [name, b] : books) {
      const TenantPolicy& p = table->Of(name);
      for (const auto& kind : p.quota_kinds) {
        ASSERT_LE(AmountOf(b.placed, kind), AmountOf(p.quota, kind)) << name << " " << kind;
      }
      if (p.max_stacks) {
        ASSERT_LE(b.stacks, p.max_stacks) << name;
      }
    }
  }
  EXPECT_GT(refused, 0u) << "the quotas were reached at some point";
  TenantBooks full;
  full.placed = R("cpu=8");
  full.stacks = 3;
  EXPECT_EQ(QuotaProblem("ml", table->Of("ml"), full, R("cpu=1")),
            "tenant 'ml' is at its quota of cpu=8 (its placed stacks hold cpu=8, this one needs "
            "cpu=1)");
  full.stacks = 5;
  EXPECT_EQ(QuotaProblem("ml", table->Of("ml"), full, R("cpu=0")),
            "tenant 'ml' is at its quota of stacks=5 (placed at once)");
}

TEST(Tenants, FileErrorsAreClearAndMembershipDecidesWhoMaySubmitAsWhom) {
  auto error = [](const std::string& yaml) {
    auto t = TenantTable::Parse(yaml, "t.yaml");
    return t.ok() ? std::string("ok") : t.message();
  };
  EXPECT_EQ(error("tenants: {ml: {quota: {gpu: -1}}}"),
            "t.yaml: quota of tenant 'ml': bad gpu amount '-1': amounts cannot be negative");
  EXPECT_NE(error("tenants: {ml: {quota: {memory: 12Q}}}").find("bad memory amount '12Q'"),
            std::string::npos);
  EXPECT_NE(error("tenants: {ml: {weight: 0}}").find("'weight' of tenant 'ml'"), std::string::npos);
  EXPECT_NE(error("tenants: {ml: {colour: red}}").find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(error("tenants: [ml]").find("'tenants' must be a map"), std::string::npos);
  EXPECT_NE(error("tenants: {ml: {weight: 1}").find("t.yaml:"), std::string::npos);
  EXPECT_NE(error("people: {}").find("expected a map with 'tenants'"), std::string::npos);

  auto table = TenantTable::Parse("tenants: {ml: {members: [alice]}}", "t.yaml").value();
  EXPECT_EQ(table.TenantFor("alice", "").value(), "alice");
  EXPECT_EQ(table.TenantFor("alice", "ml").value(), "ml");
  EXPECT_EQ(table.TenantFor("", "").value(), kDefaultTenant);
  EXPECT_EQ(table.TenantFor("", "ml").value(), "ml");
  auto refused = table.TenantFor("bob", "ml");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("may not submit as tenant 'ml'"), std::string::npos);
  EXPECT_TRUE(table.MayAct("alice", "ml"));
  EXPECT_FALSE(table.MayAct("bob", "ml"));
  EXPECT_TRUE(table.MayAct("", "ml"));
  EXPECT_EQ(table.Of("nobody").weight, 1u);

  auto with_operator =
      TenantTable::Parse("tenants: {ml: {}}\noperators: [carol]", "t.yaml").value();
  EXPECT_TRUE(with_operator.MayAct("carol", "ml"));
  EXPECT_TRUE(with_operator.MayAct("carol", "anyone"));
  EXPECT_EQ(with_operator.TenantFor("carol", "ml").value(), "ml");
  EXPECT_NE(error("tenants: {}\noperators: carol").find("'operators' must be a list"),
            std::string::npos);
}

}  // namespace
}  // namespace hollerith::coordinator
