// Tenants: who shares the cluster. A job counts against its tenant (the submitting credential's
// name, or the spec's `tenant:` when that credential is the tenant or one of its members). The
// coordinator's --tenants file gives each tenant a weight (its fair share among tenants with
// waiting work: weighted Dominant Resource Fairness on each worker) and optional quotas: the most
// cpu, memory, named resources and stacks its placed stacks may ask for at once. Tenants the file
// does not name have weight 1 and no quota. Re-read on SIGHUP (a file that does not parse keeps
// the previous table).
//
//   tenants:
//     ml:
//       weight: 2
//       members: [alice, bob]          # credentials that may also submit as ml
//       quota: {cpu: 32, memory: 64GiB, gpu: 4, stacks: 100}
//     web: {weight: 1}
//   operators: [carol]                 # credentials that act for every tenant
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/spec/resources.h"

namespace hollerith::coordinator {

// The tenant of a job submitted with the cluster's shared token (a credential without a name).
inline constexpr const char* kDefaultTenant = "default";
inline constexpr uint32_t kMaxTenantWeight = 1000000;

struct TenantPolicy {
  uint32_t weight = 1;
  Resources quota;                       // the amounts of the kinds in quota_kinds
  std::vector<std::string> quota_kinds;  // kinds with a quota (others are not limited)
  uint64_t max_stacks = 0;               // placed stacks at once; 0: no limit
  std::vector<std::string> members;
  bool has_quota() const { return !quota_kinds.empty() || max_stacks > 0; }
};

// What a tenant's placed stacks hold now.
struct TenantBooks {
  Resources placed;
  uint64_t stacks = 0;
};

class TenantTable {
 public:
  static Result<TenantTable> Load(const std::string& path);
  static Result<TenantTable> Parse(std::string_view yaml, const std::string& source);

  // The policy of `tenant` (the defaults when the file does not name it).
  const TenantPolicy& Of(const std::string& tenant) const;
  // The tenant a credential named `identity` submits as when its spec names `wanted` (may be
  // empty); an error when it may not.
  Result<std::string> TenantFor(const std::string& identity, const std::string& wanted) const;
  // Whether `identity` may see and change a job of `tenant`.
  bool MayAct(const std::string& identity, const std::string& tenant) const;
  const std::map<std::string, TenantPolicy>& named() const { return tenants_; }

 private:
  std::map<std::string, TenantPolicy> tenants_;
  std::vector<std::string> operators_;
  TenantPolicy defaults_;
};

// "" when a stack asking for `request` fits the tenant's quota beside what it holds, else why
// not: "tenant 'ml' is at its quota of cpu=32 (its placed stacks hold cpu=31)".
std::string QuotaProblem(const std::string& tenant, const TenantPolicy& policy,
                         const TenantBooks& books, const Resources& request);

}  // namespace hollerith::coordinator
