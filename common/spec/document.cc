#include "common/spec/document.h"

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <utility>

namespace hollerith {

namespace {

bool ComesBefore(const SpecErrorList::Entry& a, const SpecErrorList::Entry& b) {
  return std::tie(a.mark.file, a.mark.line, a.mark.column, a.seq) <
         std::tie(b.mark.file, b.mark.line, b.mark.column, b.seq);
}

}  // namespace

void SpecErrorList::Add(SourceMark mark, std::string message) {
  entries_.push_back(Entry{mark, std::move(message), count_++});
  if (entries_.size() >= 2 * max_kept_ + 16) Trim();
}

void SpecErrorList::Trim() {
  if (entries_.size() <= max_kept_) return;
  std::nth_element(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(max_kept_),
                   entries_.end(), ComesBefore);
  entries_.resize(max_kept_);
}

std::vector<SpecErrorList::Entry> SpecErrorList::Sorted() const {
  std::vector<Entry> out = entries_;
  std::sort(out.begin(), out.end(), ComesBefore);
  if (out.size() > max_kept_) out.resize(max_kept_);
  return out;
}

DocTreeBuilder::DocTreeBuilder(const SpecLimits& limits, size_t source_bytes) : limits_(limits) {
  constexpr size_t kSourceBytesPerNode = 6;  // about 7 for compact JSON and YAML job specs
  tree_.nodes_.reserve(source_bytes / kSourceBytesPerNode + 1);
  tree_.text_.reserve(source_bytes / 2);
}

DocTreeBuilder::DocTreeBuilder(const SpecLimits& limits, Reserve reserve) : limits_(limits) {
  tree_.nodes_.reserve(reserve.nodes);
  tree_.text_.reserve(reserve.text_bytes);
}

DocNode DocTreeBuilder::Leaf(SourceMark mark, DocKind kind) {
  DocNode n;
  n.line = static_cast<uint32_t>(mark.line);
  n.column = static_cast<uint32_t>(mark.column);
  n.kind = kind;
  n.file = static_cast<uint16_t>(mark.file);
  return n;
}

void DocTreeBuilder::Null(SourceMark mark) { pending_.push_back(Leaf(mark, DocKind::kNull)); }

void DocTreeBuilder::Scalar(SourceMark mark, std::string_view value) {
  if (value.size() > limits_.max_string_bytes || value.size() > UINT32_MAX) {
    throw SpecError(mark, "string of " + std::to_string(value.size()) +
                              " bytes is longer than the limit of " +
                              std::to_string(limits_.max_string_bytes) + " bytes");
  }
  DocNode n = Leaf(mark, DocKind::kScalar);
  n.first = tree_.text_.size();
  n.size = static_cast<uint32_t>(value.size());
  tree_.text_.append(value);
  pending_.push_back(n);
}

void DocTreeBuilder::Open(SourceMark mark, DocKind kind) {
  if (depth() >= limits_.max_depth) {
    throw SpecError(mark, "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
  }
  open_.push_back(pending_.size());
  pending_.push_back(Leaf(mark, kind));
}

void DocTreeBuilder::End() {
  const size_t at = open_.back();
  open_.pop_back();
  DocNode& container = pending_[at];
  const size_t children = pending_.size() - at - 1;
  if (children > UINT32_MAX) throw SpecError(container.mark(), "too many entries");
  container.first = tree_.nodes_.size();
  container.size = static_cast<uint32_t>(children);
  tree_.nodes_.insert(tree_.nodes_.end(), pending_.begin() + static_cast<std::ptrdiff_t>(at) + 1,
                      pending_.end());
  pending_.resize(at + 1);
}

const DocNode* DocTreeBuilder::PendingKey() const {
  if (open_.empty() || pending_[open_.back()].kind != DocKind::kMap) return nullptr;
  const size_t children = pending_.size() - open_.back() - 1;
  return children % 2 == 1 ? &pending_.back() : nullptr;
}

DocTree DocTreeBuilder::Finish() {
  tree_.nodes_.push_back(pending_.back());
  pending_.clear();
  return std::move(tree_);
}

}  // namespace hollerith
