#include "coordinator/tenants.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/spec/job.h"
#include "common/spec/quantities.h"
#include "coordinator/placement.h"

namespace hollerith::coordinator {
namespace {

// Scalar text of `node`, or an error naming `what` and where it is.
Result<std::string> Text(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) {
    return Status::Error(what + " must be a single value (line " +
                         std::to_string(node.Mark().line + 1) + ")");
  }
  return node.Scalar();
}

Status ReadQuota(const YAML::Node& quota, const std::string& where, TenantPolicy& policy) {
  if (!quota.IsMap()) return Status::Error("'quota' of " + where + " must be a map");
  for (const auto& kv : quota) {
    auto key = Text(kv.first, "each key of the quota of " + where);
    if (!key.ok()) return key.status();
    auto value = Text(kv.second, "the quota " + *key + " of " + where);
    if (!value.ok()) return value.status();
    if (*key == "stacks") {
      auto n = ParseCount(*value, uint64_t{1} << 40);
      if (!n.ok()) return Status::Error("quota 'stacks' of " + where + ": " + n.message());
      policy.max_stacks = *n;
      continue;
    }
    if (std::find(policy.quota_kinds.begin(), policy.quota_kinds.end(), *key) !=
        policy.quota_kinds.end()) {
      return Status::Error("quota " + QuoteForMessage(*key) + " of " + where + " is given twice");
    }
    if (Status s = SetResource(policy.quota, *key, *value); !s.ok()) {
      return Status::Error("quota of " + where + ": " + s.message());
    }
    policy.quota_kinds.push_back(*key);
  }
  return Status::Ok();
}

Result<TenantPolicy> ReadTenant(const std::string& name, const YAML::Node& node) {
  const std::string where = "tenant " + QuoteForMessage(name);
  TenantPolicy policy;
  if (node.IsNull()) return policy;
  if (!node.IsMap()) return Status::Error(where + " must be a map (weight, members, quota)");
  for (const auto& kv : node) {
    auto key = Text(kv.first, "each key of " + where);
    if (!key.ok()) return key.status();
    if (*key == "weight") {
      auto value = Text(kv.second, "'weight' of " + where);
      if (!value.ok()) return value.status();
      auto weight = ParseCount(*value, kMaxTenantWeight);
      if (!weight.ok()) return Status::Error("'weight' of " + where + ": " + weight.message());
      policy.weight = static_cast<uint32_t>(*weight);
    } else if (*key == "members") {
      if (!kv.second.IsSequence()) {
        return Status::Error("'members' of " + where + " must be a list of credential names");
      }
      for (const auto& m : kv.second) {
        auto member = Text(m, "each member of " + where);
        if (!member.ok()) return member.status();
        policy.members.push_back(*member);
      }
    } else if (*key == "quota") {
      if (Status s = ReadQuota(kv.second, where, policy); !s.ok()) return s;
    } else {
      return Status::Error("unknown key " + QuoteForMessage(*key) + " in " + where +
                           " (expected weight, members or quota)");
    }
  }
  return policy;
}

}  // namespace

Result<TenantTable> TenantTable::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot read the tenants file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

Result<TenantTable> TenantTable::Parse(std::string_view yaml, const std::string& source) {
  TenantTable table;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::Error(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                         std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  auto fail = [&](const Status& s) { return Status::Error(source + ": " + s.message()); };
  if (!root.IsMap() || !root["tenants"]) {
    return Status::Error(source + ": expected a map with 'tenants' (see `hollerith help cluster`)");
  }
  for (const auto& kv : root) {
    if (kv.first.Scalar() == "operators") {
      if (!kv.second.IsSequence()) {
        return Status::Error(source + ": 'operators' must be a list of credential names");
      }
      for (const auto& op : kv.second) {
        auto name = Text(op, "each of 'operators'");
        if (!name.ok()) return fail(name.status());
        table.operators_.push_back(*name);
      }
    } else if (kv.first.Scalar() != "tenants") {
      return Status::Error(source + ": unknown key " + QuoteForMessage(kv.first.Scalar()) +
                           " (expected tenants or operators)");
    }
  }
  const YAML::Node tenants = root["tenants"];
  if (!tenants.IsMap()) return Status::Error(source + ": 'tenants' must be a map of names");
  try {
    for (const auto& kv : tenants) {
      auto name = Text(kv.first, "each tenant's name");
      if (!name.ok()) return fail(name.status());
      if (!IsValidId(*name)) {
        return Status::Error(source + ": bad tenant name " + QuoteForMessage(*name) +
                             " (1..64 of A-Z a-z 0-9 _ -)");
      }
      auto policy = ReadTenant(*name, kv.second);
      if (!policy.ok()) return fail(policy.status());
      table.tenants_[*name] = std::move(policy).value();
    }
  } catch (const YAML::Exception& e) {
    return Status::Error(source + ": " + e.msg);
  }
  return table;
}

const TenantPolicy& TenantTable::Of(const std::string& tenant) const {
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? defaults_ : it->second;
}

bool TenantTable::MayAct(const std::string& identity, const std::string& tenant) const {
  if (identity.empty() || identity == tenant) return true;  // the shared token acts for all
  if (std::find(operators_.begin(), operators_.end(), identity) != operators_.end()) return true;
  const auto& members = Of(tenant).members;
  return std::find(members.begin(), members.end(), identity) != members.end();
}

Result<std::string> TenantTable::TenantFor(const std::string& identity,
                                           const std::string& wanted) const {
  const std::string own = identity.empty() ? kDefaultTenant : identity;
  if (wanted.empty()) return own;
  if (!MayAct(identity, wanted)) {
    return Status::Error(StatusCode::kPermissionDenied,
                         "credential " + QuoteForMessage(identity) + " may not submit as tenant " +
                             QuoteForMessage(wanted) +
                             ": it is neither that tenant nor one of its members (--tenants)");
  }
  return wanted;
}

std::string QuotaProblem(const std::string& tenant, const TenantPolicy& policy,
                         const TenantBooks& books, const Resources& request) {
  if (policy.max_stacks > 0 && books.stacks + 1 > policy.max_stacks) {
    return "tenant '" + tenant +
           "' is at its quota of stacks=" + std::to_string(policy.max_stacks) + " (placed at once)";
  }
  for (const std::string& kind : policy.quota_kinds) {
    const uint64_t want = AmountOf(request, kind);
    if (want == 0) continue;
    if (AmountOf(books.placed, kind) + want > AmountOf(policy.quota, kind)) {
      return "tenant '" + tenant + "' is at its quota of " + DescribeAmounts(policy.quota, {kind}) +
             " (its placed stacks hold " + DescribeAmounts(books.placed, {kind}) +
             ", this one needs " + DescribeAmounts(request, {kind}) + ")";
    }
  }
  return "";
}

}  // namespace hollerith::coordinator
