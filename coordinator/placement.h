// Chooses the worker for a stack: one that satisfies its `node` / `labels` constraint and whose
// capacity can hold its `resources`, the least loaded of those (smallest dominant share of its
// capacity held by the stacks placed on it, then name), or says in words why none can.
//
// Placement is eager: a stack goes to a worker as soon as one could hold it, and the worker starts
// its cards as its resources free up (common/runner/resource_pool.h): a stack that waits for
// another stack's card holds nothing there, so stacks that wait for each other never deadlock.
// Workers are indexed by shape (labels and capacity): a decision looks at each shape once and at
// the least loaded worker of each, so its cost grows with the number of shapes, not of workers.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/spec/job.h"
#include "common/spec/resources.h"

namespace hollerith::coordinator {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct PlacementChoice {
  uint64_t worker = 0;  // the worker's id, 0 when none
  std::string waiting;  // why not, when worker == 0: "waiting: ..."
};

class Placement {
 public:
  struct Worker {
    std::string name;
    Labels labels;
    Resources capacity;
    Resources placed;  // the requests of the stacks placed on it, not ended
    uint64_t stacks = 0;
  };

  // `id` is unique per worker session (the coordinator uses its epoch); a newer session of the
  // same name replaces the older one for `node:` lookups.
  void AddWorker(uint64_t id, std::string name, Labels labels, Resources capacity);
  void RemoveWorker(uint64_t id);
  PlacementChoice Choose(const StackSpec& stack) const;
  // Books a stack's request on a worker (Place) or returns it (Unplace).
  void Place(uint64_t id, const Resources& request);
  void Unplace(uint64_t id, const Resources& request);
  const Worker* Find(uint64_t id) const;
  const Worker* FindByName(const std::string& name) const;
  uint64_t IdOf(const std::string& name) const;  // 0 when no worker has that name
  size_t size() const { return workers_.size(); }
  // Why a stack placed on worker `id` may not be running: its request against what the stacks
  // placed there hold ("" when it fits beside them).
  std::string Crowded(uint64_t id, const Resources& request) const;

 private:
  using Load = std::pair<uint64_t, std::string>;  // (dominant share in millionths, name)
  struct Shape {
    Labels labels;  // sorted
    Resources capacity;
    std::set<std::pair<Load, uint64_t>> by_load;  // (load, id)
  };
  struct Entry {
    Worker worker;
    Shape* shape;
    Load load;
    // Crowded's texts for the requests asked about since the worker's books last changed: a
    // job's statuses ask for every stack placed there (100,000 in one GetJob or watch batch of a
    // large job), with the same few requests, and formatting each anew was a tenth of the
    // coordinator's work while such a job ran.
    mutable std::vector<std::pair<Resources, std::string>> crowded;
  };
  static uint64_t DominantShare(const Resources& placed, const Resources& capacity);
  static std::string CrowdedText(const Worker& worker, const Resources& request);
  std::string WhyNone(const StackSpec& stack) const;

  std::map<uint64_t, Entry> workers_;
  std::map<std::string, uint64_t> by_name_;
  std::map<std::pair<Labels, std::string>, Shape> shapes_;  // key: (labels, capacity text)
};

// "cpu=2, memory=4GiB" style text of the amounts of `r` named by `kinds` (every kind if empty).
std::string DescribeAmounts(const Resources& r, const std::vector<std::string>& kinds = {});

}  // namespace hollerith::coordinator
