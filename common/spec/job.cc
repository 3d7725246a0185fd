#include "common/spec/job.h"

#include <algorithm>

namespace hollerith {

bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool IsValidId(std::string_view s, size_t max_length) {
  if (s.empty() || s.size() > max_length) return false;
  return std::all_of(s.begin(), s.end(), IsIdChar);
}

std::string JobSpec::Where(SourceMark mark) const {
  const bool other = mark.file > 0 && static_cast<size_t>(mark.file) <= included.size();
  return (other ? included[mark.file - 1] : source) + ":" + std::to_string(mark.line) + ":" +
         std::to_string(mark.column);
}

size_t JobSpec::card_count() const {
  size_t n = 0;
  for (const auto& s : stacks) n += s.is_template() ? 0 : s.cards.size();
  return n;
}

std::vector<uint32_t> JobSpec::DisplayOrder() const {
  std::vector<uint32_t> order;
  order.reserve(stacks.size());
  for (uint32_t s = 0; s < spec_stacks(); ++s) {
    const StackSpec& stack = stacks[s];
    if (!stack.is_template()) {
      order.push_back(s);
      continue;
    }
    for (uint32_t i = 0; stack.fanout->expanded && i < stack.fanout->count; ++i) {
      order.push_back(stack.fanout->first + i);
    }
  }
  return order;
}

std::string JobSpec::card_name(CardRef r) const {
  const StackSpec& s = stacks[r.stack];
  if (s.is_combine) return kCombineName;
  return s.id + "." + s.cards[r.card].id;
}

std::vector<CardRef> CrossStackDependencies(const JobSpec& job, CardRef r) {
  return CrossStackDependencies(job.card(r), r.stack);
}

std::vector<CardRef> CrossStackDependencies(const CardSpec& card, uint32_t own_stack) {
  std::vector<CardRef> deps = card.after;
  for (const auto& in : card.inputs) deps.push_back(in.from);
  std::erase_if(deps, [&](CardRef d) { return d.stack == own_stack; });
  std::sort(deps.begin(), deps.end());
  deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
  return deps;
}

DependentsIndex::DependentsIndex(const JobSpec& job) {
  size_t total = 0;
  for (const auto& s : job.stacks) {
    offsets_.push_back(total);
    total += s.cards.size();
  }
  dependents_.resize(total);
  counts_.resize(total);
  for (uint32_t s = 0; s < job.stacks.size(); ++s) {
    for (uint32_t c = 0; c < job.stacks[s].cards.size(); ++c) {
      CardRef r{s, c};
      auto deps = CrossStackDependencies(job, r);
      counts_[offsets_[s] + c] = static_cast<uint32_t>(deps.size());
      for (CardRef d : deps) dependents_[offsets_[d.stack] + d.card].push_back(r);
    }
  }
}

}  // namespace hollerith
