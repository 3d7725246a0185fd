#include "coordinator/placement.h"

#include <algorithm>

namespace hollerith::coordinator {
namespace {

bool HasLabels(const Labels& have, const Labels& want) {
  return std::all_of(want.begin(), want.end(), [&](const auto& label) {
    return std::find(have.begin(), have.end(), label) != have.end();
  });
}

std::string DescribeLabels(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return out;
}

}  // namespace

std::string DescribeAmounts(const Resources& r, const std::vector<std::string>& kinds) {
  std::string out;
  for (const std::string& kind : kinds.empty() ? KindsOf(r, r) : kinds) {
    out += (out.empty() ? "" : ", ") + kind + "=" + FormatAmount(kind, AmountOf(r, kind));
  }
  return out.empty() ? "nothing" : out;
}

uint64_t Placement::DominantShare(const Resources& placed, const Resources& capacity) {
  uint64_t share = 0;
  auto consider = [&](uint64_t used, uint64_t have) {
    if (used == 0) return;
    share = std::max(share, have == 0 ? UINT64_MAX / 2 : used * 1'000'000 / have);
  };
  consider(placed.cpu_milli, capacity.cpu_milli);
  consider(placed.memory_bytes >> 10, capacity.memory_bytes >> 10);  // no overflow in KiB
  for (const auto& [name, amount] : placed.named) consider(amount, capacity.Named(name));
  return share;
}

void Placement::AddWorker(uint64_t id, std::string name, Labels labels, Resources capacity) {
  RemoveWorker(id);
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  Shape& shape = shapes_[{sorted, FormatResources(capacity)}];
  shape.labels = std::move(sorted);
  shape.capacity = capacity;
  Entry& e = workers_[id];
  e.worker = {std::move(name), std::move(labels), std::move(capacity), {}, 0};
  e.shape = &shape;
  e.load = {0, e.worker.name};
  shape.by_load.insert({e.load, id});
  by_name_[e.worker.name] = id;
}

void Placement::RemoveWorker(uint64_t id) {
  auto it = workers_.find(id);
  if (it == workers_.end()) return;
  Entry& e = it->second;
  e.shape->by_load.erase({e.load, id});
  if (e.shape->by_load.empty()) {
    shapes_.erase({e.shape->labels, FormatResources(e.shape->capacity)});
  }
  if (auto n = by_name_.find(e.worker.name); n != by_name_.end() && n->second == id) {
    by_name_.erase(n);
  }
  workers_.erase(it);
}

void Placement::Place(uint64_t id, const Resources& request) {
  auto it = workers_.find(id);
  if (it == workers_.end()) return;
  Entry& e = it->second;
  e.crowded.clear();
  e.shape->by_load.erase({e.load, id});
  e.worker.placed += request;
  ++e.worker.stacks;
  e.load.first = DominantShare(e.worker.placed, e.worker.capacity);
  e.shape->by_load.insert({e.load, id});
}

void Placement::Unplace(uint64_t id, const Resources& request) {
  auto it = workers_.find(id);
  if (it == workers_.end()) return;
  Entry& e = it->second;
  e.crowded.clear();
  e.shape->by_load.erase({e.load, id});
  e.worker.placed -= request;
  if (e.worker.stacks > 0) --e.worker.stacks;
  e.load.first = DominantShare(e.worker.placed, e.worker.capacity);
  e.shape->by_load.insert({e.load, id});
}

const Placement::Worker* Placement::Find(uint64_t id) const {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second.worker;
}

const Placement::Worker* Placement::FindByName(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : Find(it->second);
}

uint64_t Placement::IdOf(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? 0 : it->second;
}

PlacementChoice Placement::Choose(const StackSpec& stack) const {
  PlacementChoice choice;
  const Resources& request = stack.resources;
  if (!stack.node.empty()) {
    auto it = by_name_.find(stack.node);
    if (it == by_name_.end()) {
      choice.waiting = "waiting: pinned to worker " + stack.node + ", which is not connected";
      return choice;
    }
    const Worker& w = workers_.at(it->second).worker;
    if (!HasLabels(w.labels, stack.labels)) {
      choice.waiting = "waiting: pinned to worker " + stack.node + ", which lacks labels " +
                       DescribeLabels(stack.labels);
    } else if (!w.capacity.Holds(request)) {
      const auto kinds = KindsOf(request, {});
      choice.waiting = "waiting: needs " + DescribeAmounts(request) + ": pinned worker " +
                       stack.node + " has " + DescribeAmounts(w.capacity, kinds);
    } else {
      choice.worker = it->second;
    }
    return choice;
  }
  const std::pair<Load, uint64_t>* best = nullptr;
  for (const auto& [key, shape] : shapes_) {
    if (shape.by_load.empty() || !HasLabels(shape.labels, stack.labels) ||
        !shape.capacity.Holds(request)) {
      continue;
    }
    const auto& candidate = *shape.by_load.begin();
    if (!best || candidate < *best) best = &candidate;
  }
  if (best) {
    choice.worker = best->second;
  } else {
    choice.waiting = WhyNone(stack);
  }
  return choice;
}

std::string Placement::WhyNone(const StackSpec& stack) const {
  if (workers_.empty()) return "waiting: no worker connected";
  Resources most;  // per kind, the most any worker with the labels has
  size_t matching = 0;
  for (const auto& [key, shape] : shapes_) {
    if (shape.by_load.empty() || !HasLabels(shape.labels, stack.labels)) continue;
    matching += shape.by_load.size();
    most.cpu_milli = std::max(most.cpu_milli, shape.capacity.cpu_milli);
    most.memory_bytes = std::max(most.memory_bytes, shape.capacity.memory_bytes);
    for (const auto& [name, amount] : shape.capacity.named) {
      most.SetNamed(name, std::max(most.Named(name), amount));
    }
  }
  if (matching == 0) {
    return "waiting: no connected worker has labels " + DescribeLabels(stack.labels);
  }
  const std::string with = stack.labels.empty() ? "" : " with its labels";
  std::vector<std::string> short_kinds;
  for (const std::string& kind : KindsOf(stack.resources, {})) {
    if (AmountOf(stack.resources, kind) > AmountOf(most, kind)) short_kinds.push_back(kind);
  }
  if (short_kinds.empty()) {
    return "waiting: needs " + DescribeAmounts(stack.resources) + ": none of the " +
           std::to_string(matching) + " connected workers" + with + " has all of it at once";
  }
  std::string text = "waiting: needs " + DescribeAmounts(stack.resources, short_kinds) +
                     ": no connected worker" + with + " has that much (the most any has: ";
  return text + DescribeAmounts(most, short_kinds) + ")";
}

std::string Placement::Crowded(uint64_t id, const Resources& request) const {
  auto it = workers_.find(id);
  if (it == workers_.end()) return "";
  const Entry& e = it->second;
  for (const auto& [asked, text] : e.crowded) {
    if (asked == request) return text;
  }
  std::string text = CrowdedText(e.worker, request);
  constexpr size_t kRemembered = 8;
  if (e.crowded.size() < kRemembered) e.crowded.emplace_back(request, text);
  return text;
}

std::string Placement::CrowdedText(const Worker& w, const Resources& request) {
  if (w.capacity.Holds(w.placed)) return "";
  std::vector<std::string> kinds;
  for (const std::string& kind : KindsOf(request, {})) {
    if (AmountOf(w.placed, kind) > AmountOf(w.capacity, kind)) kinds.push_back(kind);
  }
  if (kinds.empty()) return "";
  return "queued on worker " + w.name + ": needs " + DescribeAmounts(request, kinds) + "; the " +
         std::to_string(w.stacks) + " stacks placed there ask for " +
         DescribeAmounts(w.placed, kinds) + " of its " + DescribeAmounts(w.capacity, kinds);
}

}  // namespace hollerith::coordinator
