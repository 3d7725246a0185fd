// What a node's running cards hold: its capacity (cpu, memory, named resources such as gpu) handed
// to cards as they start and taken back when they end. A card holds its stack's request only while
// its process runs, not while the stack waits for a release, so mutually dependent stacks can
// never deadlock a node.
//
// Who goes next, when several cards wait:
//   1. the higher priority (the job's);
//   2. among equal priorities, the tenant with the smallest weighted dominant share of this node
//      (weighted DRF, Ghodsi et al. 2011): the largest fraction of any one kind of the capacity its
//      running cards hold, divided by its weight. A cpu-heavy and a memory-heavy tenant thus get
//      equal shares of what each needs most, not equal counts of cards;
//   3. first come, first served.
// The waiter so chosen (the head) waits until it fits: nobody behind it is started meanwhile, or a
// stream of small requests would starve a big one. A request the capacity can never hold is never
// granted and never becomes the head (callers refuse such work up front: CanEverHold). A request
// of nothing is granted at once: it takes nothing from the head.
//
// GPUs are devices, not just a count: a grant of gpu=N names N free indices of 0..gpu-1, those a
// stack held last time when they are free, so its cards keep their devices (and their caches).
#pragma once

#include <asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/spec/resources.h"

namespace hollerith {

// The named resource whose units are devices with indices (HOLLERITH_GPUS, CUDA_VISIBLE_DEVICES).
inline constexpr std::string_view kGpuResource = "gpu";
// Devices one node indexes at most (a worker refuses --resources gpu=N beyond it).
inline constexpr uint64_t kMaxGpus = 1024;

struct ResourceGrant {
  Resources request;
  std::vector<int> gpus;  // ascending
  std::string tenant;
};

class ResourcePool {
 public:
  using Granted = std::function<void(ResourceGrant)>;

  ResourcePool(asio::io_context& io, Resources capacity);

  // `granted` runs posted on the io_context once `request` fits and it is this waiter's turn
  // (never inside Acquire or Release). `previous_gpus`: the indices the same stack held last.
  void Acquire(const Resources& request, int priority, const std::string& tenant, uint32_t weight,
               Granted granted, std::vector<int> previous_gpus = {});
  void Release(const ResourceGrant& grant);

  bool CanEverHold(const Resources& request) const { return capacity_.Holds(request); }
  const Resources& capacity() const { return capacity_; }
  const Resources& in_use() const { return in_use_; }
  // What `tenant`'s running cards hold here.
  Resources in_use(const std::string& tenant) const;
  // The weighted dominant share of `tenant` (0 when it holds nothing).
  double share(const std::string& tenant) const;
  size_t waiting() const { return waiting_ + never_.size(); }

 private:
  struct Waiter {
    uint64_t ticket;
    Resources request;
    std::vector<int> previous_gpus;
    Granted granted;
  };
  struct Tenant {
    Resources used;
    uint32_t weight = 1;
    size_t waiting = 0;
  };
  // One priority's waiters, by tenant, each tenant's in the order they asked.
  using Level = std::map<std::string, std::deque<Waiter>, std::less<>>;

  void Grant(const std::string& tenant, Waiter waiter);
  // Grants heads while they fit.
  void Pump();
  double ShareOf(const Tenant& t) const;
  std::vector<int> TakeGpus(uint64_t count, const std::vector<int>& previous);
  void ForgetIfIdle(const std::string& tenant);

  asio::io_context& io_;
  Resources capacity_;
  Resources in_use_;
  std::vector<bool> gpu_taken_;
  std::map<int, Level, std::greater<>> levels_;  // highest priority first
  std::map<std::string, Tenant, std::less<>> tenants_;
  std::vector<Waiter> never_;  // requests the capacity cannot hold
  size_t waiting_ = 0;
  uint64_t next_ticket_ = 0;
};

}  // namespace hollerith
