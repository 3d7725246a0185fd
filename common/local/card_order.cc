#include "common/local/card_order.h"

#include <algorithm>
#include <random>
#include <set>
#include <tuple>

namespace hollerith {
namespace {

// The cards that run, numbered: card (s, c) is node offsets[s] + c; a template's cards have none.
struct CardGraph {
  std::vector<size_t> offsets;  // per stack; SIZE_MAX for a template
  std::vector<CardRef> cards;   // per node
  std::vector<std::vector<size_t>> dependents;
  std::vector<uint32_t> waits;  // per node: how many dependencies it has
};

constexpr size_t kNoNode = SIZE_MAX;

// A reference to a template's card stands for the card whose output lists the instances (and,
// should that stack be a template's too, for its own source).
CardRef Resolve(const JobSpec& job, CardRef r) {
  for (size_t hops = 0; hops <= job.stacks.size() && r.stack < job.stacks.size() &&
                        job.stacks[r.stack].is_template();
       ++hops) {
    r = job.stacks[r.stack].fanout->source;
  }
  return r;
}

CardGraph BuildGraph(const JobSpec& job) {
  CardGraph g;
  for (uint32_t s = 0; s < job.stacks.size(); ++s) {
    const StackSpec& stack = job.stacks[s];
    g.offsets.push_back(stack.is_template() ? kNoNode : g.cards.size());
    if (stack.is_template()) continue;
    for (uint32_t c = 0; c < stack.cards.size(); ++c) g.cards.push_back({s, c});
  }
  g.dependents.resize(g.cards.size());
  g.waits.resize(g.cards.size());
  auto node_of = [&](CardRef r) {
    if (r.stack >= job.stacks.size() || g.offsets[r.stack] == kNoNode ||
        r.card >= job.stacks[r.stack].cards.size()) {
      return kNoNode;
    }
    return g.offsets[r.stack] + r.card;
  };
  for (size_t n = 0; n < g.cards.size(); ++n) {
    const CardRef r = g.cards[n];
    std::vector<size_t> deps;
    if (r.card > 0) deps.push_back(n - 1);
    // A run-time matrix's instance exists only once the card that lists the instances ran.
    const uint32_t made_from = job.stacks[r.stack].instance_of;
    if (r.card == 0 && made_from < job.stacks.size() && job.stacks[made_from].is_template()) {
      const size_t from = node_of(Resolve(job, job.stacks[made_from].fanout->source));
      if (from != kNoNode) deps.push_back(from);
    }
    for (CardRef d : CrossStackDependencies(job, r)) {
      const size_t from = node_of(Resolve(job, d));
      if (from != kNoNode && from != n) deps.push_back(from);
    }
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    for (size_t from : deps) g.dependents[from].push_back(n);
    g.waits[n] = static_cast<uint32_t>(deps.size());
  }
  return g;
}

bool IsDelayed(const JobSpec& job, uint32_t stack, const std::string& delayed) {
  const StackSpec& s = job.stacks[stack];
  if (s.id == delayed) return true;
  return s.instance_of < job.stacks.size() && job.stacks[s.instance_of].id == delayed;
}

// Kahn's algorithm; `pick` chooses (and removes) one node of the ready list.
template <typename Pick>
std::vector<CardRef> Kahn(CardGraph& g, Pick pick) {
  std::vector<size_t> ready;
  for (size_t n = 0; n < g.cards.size(); ++n) {
    if (g.waits[n] == 0) ready.push_back(n);
  }
  std::vector<CardRef> order;
  order.reserve(g.cards.size());
  while (!ready.empty()) {
    const size_t n = pick(ready);
    order.push_back(g.cards[n]);
    for (size_t d : g.dependents[n]) {
      if (--g.waits[d] == 0) ready.push_back(d);
    }
  }
  return order;  // shorter than the job only with a cycle, which the parser refuses
}

// Kahn's algorithm choosing the ready card of the smallest key.
template <typename Key>
std::vector<CardRef> KahnByKey(CardGraph& g, Key key) {
  using K = decltype(key(CardRef{}));
  std::set<std::pair<K, size_t>> ready;
  for (size_t n = 0; n < g.cards.size(); ++n) {
    if (g.waits[n] == 0) ready.insert({key(g.cards[n]), n});
  }
  std::vector<CardRef> order;
  order.reserve(g.cards.size());
  while (!ready.empty()) {
    const size_t n = ready.begin()->second;
    ready.erase(ready.begin());
    order.push_back(g.cards[n]);
    for (size_t d : g.dependents[n]) {
      if (--g.waits[d] == 0) ready.insert({key(g.cards[d]), d});
    }
  }
  return order;
}

}  // namespace

std::vector<OrderPlan> ExplorePlans(const JobSpec& job, size_t count, uint64_t seed) {
  std::vector<OrderPlan> plans;
  const OrderPlan fixed[] = {{OrderKind::kParallel, "", 0, "parallel"},
                             {OrderKind::kSerial, "", 0, "serial"},
                             {OrderKind::kStacksReversed, "", 0, "stacks reversed"}};
  for (const OrderPlan& p : fixed) {
    if (plans.size() < count) plans.push_back(p);
  }
  const size_t rest = count - plans.size();
  std::vector<std::string> stacks;  // those worth delaying: every written stack but combine
  for (uint32_t s = 0; s < job.spec_stacks(); ++s) {
    if (!job.stacks[s].is_combine) stacks.push_back(job.stacks[s].id);
  }
  std::mt19937_64 rng(seed);
  std::shuffle(stacks.begin(), stacks.end(), rng);
  const size_t delayed = stacks.size() < 2 ? 0 : std::min(stacks.size(), (rest + 1) / 2);
  for (size_t i = 0; i < delayed; ++i) {
    plans.push_back({OrderKind::kStackDelayed, stacks[i], 0, "stack " + stacks[i] + " delayed"});
  }
  for (size_t i = 1; plans.size() < count; ++i) {
    plans.push_back({OrderKind::kRandom, "", rng(), "random #" + std::to_string(i)});
  }
  return plans;
}

std::vector<CardRef> CardSequence(const JobSpec& job, const OrderPlan& plan) {
  CardGraph g = BuildGraph(job);
  switch (plan.kind) {
    case OrderKind::kParallel:
      return {};
    case OrderKind::kSerial:
      return KahnByKey(g, [](CardRef r) { return r; });
    case OrderKind::kStacksReversed:
      return KahnByKey(g, [](CardRef r) { return std::pair{UINT32_MAX - r.stack, r.card}; });
    case OrderKind::kStackDelayed:
      return KahnByKey(g, [&](CardRef r) {
        return std::tuple{IsDelayed(job, r.stack, plan.delayed_stack), r.stack, r.card};
      });
    case OrderKind::kRandom: {
      std::mt19937 rng(static_cast<std::mt19937::result_type>(plan.seed ^ (plan.seed >> 32)));
      return Kahn(g, [&rng](std::vector<size_t>& ready) {
        const size_t i = std::uniform_int_distribution<size_t>(0, ready.size() - 1)(rng);
        const size_t n = ready[i];
        ready[i] = ready.back();
        ready.pop_back();
        return n;
      });
    }
  }
  return {};
}

bool IsTopologicalOrder(const JobSpec& job, const std::vector<CardRef>& sequence) {
  CardGraph g = BuildGraph(job);
  if (sequence.size() != g.cards.size()) return false;
  std::vector<size_t> position(g.cards.size(), kNoNode);
  for (size_t i = 0; i < sequence.size(); ++i) {
    const CardRef r = sequence[i];
    if (r.stack >= job.stacks.size() || g.offsets[r.stack] == kNoNode ||
        r.card >= job.stacks[r.stack].cards.size()) {
      return false;
    }
    size_t& p = position[g.offsets[r.stack] + r.card];
    if (p != kNoNode) return false;  // twice
    p = i;
  }
  for (size_t n = 0; n < g.cards.size(); ++n) {
    for (size_t d : g.dependents[n]) {
      if (position[n] > position[d]) return false;
    }
  }
  return true;
}

}  // namespace hollerith
