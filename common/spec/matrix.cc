#include "common/spec/matrix.h"

#include <cstdio>

#include "common/spec/id_index.h"
#include "common/spec/quantities.h"

namespace hollerith {
namespace {

constexpr size_t kNoColumn = SIZE_MAX;

uint32_t Fnv1a32(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

std::string StackCount(uint64_t stacks, uint64_t cards) {
  return std::to_string(stacks) + (stacks == 1 ? " stack" : " stacks") + " of " +
         std::to_string(cards) + (cards == 1 ? " card" : " cards");
}

}  // namespace

std::string MatrixStackId(std::string_view raw) {
  std::string id(raw);
  for (char& c : id) {
    if (!IsIdChar(c)) c = '_';
  }
  if (id.size() <= kMaxIdLength) return id;
  char hash[10];
  std::snprintf(hash, sizeof hash, "-%08x", Fnv1a32(id));
  id.resize(kMaxIdLength - 9);
  return id + hash;
}

StackMatrix::StackMatrix(const DocTree& doc, const DocNode& matrix, SourceMark at,
                         std::string_view stack_id, uint64_t cards, Budget budget)
    : doc_(doc) {
  const uint64_t max_cards = budget.room;
  const std::string where = "the matrix of stack " + QuoteForMessage(stack_id);
  if (matrix.kind != DocKind::kMap) throw SpecError(matrix.mark(), where + " must be a map");
  std::vector<const DocNode*> lists;
  const DocNode* include = nullptr;
  const DocNode* exclude = nullptr;
  for (uint32_t i = 0; i < matrix.size; i += 2) {
    const DocNode& key = doc.child(matrix, i);
    const DocNode& value = doc.child(matrix, i + 1);
    const std::string_view name = key.kind == DocKind::kScalar ? doc.scalar(key) : "";
    if (name == "include" || name == "exclude") {
      (name == "include" ? include : exclude) = &value;
      continue;
    }
    if (!IsValidId(name)) {
      throw SpecError(key.mark(),
                      "bad matrix key in " + where + " (use 1-64 characters from A-Z a-z 0-9 _ -)");
    }
    if (Column(name) != kNoColumn) {
      throw SpecError(key.mark(), "duplicate matrix key " + QuoteForMessage(name));
    }
    if (value.kind != DocKind::kSequence || value.size == 0) {
      throw SpecError(value.mark(), "matrix key " + QuoteForMessage(name) + " of " + where +
                                        " must be a non-empty list of values");
    }
    for (uint32_t v = 0; v < value.size; ++v) {
      if (doc.child(value, v).kind != DocKind::kScalar) {
        throw SpecError(doc.child(value, v).mark(),
                        "each value of matrix key " + QuoteForMessage(name) + " must be a string");
      }
    }
    columns_.push_back(name);
    lists.push_back(&value);
  }
  matrix_keys_ = columns_.size();
  auto entries = [&](const DocNode* list, const char* what, bool matrix_keys_only) {
    std::vector<Pairs> out;
    if (!list) return out;
    if (list->kind != DocKind::kSequence) {
      throw SpecError(list->mark(),
                      std::string("'") + what + "' of " + where + " must be a list of maps");
    }
    if (list->size > kMaxMatrixEntries) {
      throw SpecError(list->mark(), std::string("'") + what + "' of " + where + " has " +
                                        std::to_string(list->size) + " entries, more than " +
                                        std::to_string(kMaxMatrixEntries));
    }
    for (uint32_t i = 0; i < list->size; ++i) {
      out.push_back(ReadEntry(doc.child(*list, i), what, matrix_keys_only));
    }
    return out;
  };
  const std::vector<Pairs> excludes = entries(exclude, "exclude", true);
  const std::vector<Pairs> includes = entries(include, "include", false);
  for (const Pairs& pairs : includes) AddColumns(pairs);
  if (columns_.size() > kMaxMatrixKeys) {
    throw SpecError(at, where + " has " + std::to_string(columns_.size()) +
                            " keys (with those of 'include'), more than " +
                            std::to_string(kMaxMatrixKeys));
  }

  // The matrix bomb: refused before a combination is made.
  uint64_t product = lists.empty() ? 0 : 1;
  bool overflow = false;
  for (const DocNode* list : lists)
    overflow |= __builtin_mul_overflow(product, list->size, &product);
  auto refuse = [&](uint64_t stacks, const char* what) {
    std::string room = "the limit of " + std::to_string(budget.job_limit) + " cards in a job";
    if (budget.room < budget.job_limit) {
      room = "the " + std::to_string(budget.room) + " cards that the job's other stacks leave of " +
             room;
    }
    uint64_t total = 0;
    const bool too_many = overflow || __builtin_mul_overflow(stacks, cards, &total);
    throw SpecError(at, where + " makes " +
                            (overflow ? "more than 2^64 stacks" : StackCount(stacks, cards)) +
                            what + (too_many ? "" : " = " + std::to_string(total) + " cards") +
                            ", more than " + room);
  };
  const uint64_t cards_per_stack = cards == 0 ? 1 : cards;
  if (overflow || product > max_cards / cards_per_stack) refuse(product, " (before exclude)");
  if ((includes.size() + excludes.size()) * product > kMaxMatrixWork) {
    throw SpecError(at, where + ": " + std::to_string(includes.size() + excludes.size()) +
                            " include and exclude entries over " + std::to_string(product) +
                            " combinations are too many to match (at most " +
                            std::to_string(kMaxMatrixWork) + " tries)");
  }
  BuildProduct(lists, excludes);
  ApplyIncludes(includes);
  if (from_include_.empty()) {
    throw SpecError(at, where + " makes no stacks (exclude removed every combination)");
  }
  MakeIds(at, stack_id);
  if (size() > max_cards / cards_per_stack) refuse(size(), "");
}

size_t StackMatrix::Column(std::string_view key) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i] == key) return i;
  }
  return kNoColumn;
}

StackMatrix::Pairs StackMatrix::ReadEntry(const DocNode& entry, const char* list,
                                          bool matrix_keys_only) const {
  if (entry.kind != DocKind::kMap || entry.size == 0) {
    throw SpecError(entry.mark(), std::string("each entry of '") + list +
                                      "' must be a non-empty map of matrix keys to values");
  }
  Pairs pairs;
  for (uint32_t i = 0; i < entry.size; i += 2) {
    const DocNode& key = doc_.child(entry, i);
    const DocNode& value = doc_.child(entry, i + 1);
    const std::string_view name = key.kind == DocKind::kScalar ? doc_.scalar(key) : "";
    if (!IsValidId(name)) {
      throw SpecError(key.mark(), std::string("bad key in '") + list +
                                      "' (use 1-64 characters from A-Z a-z 0-9 _ -)");
    }
    if (matrix_keys_only && Column(name) == kNoColumn) {
      throw SpecError(key.mark(), std::string("'") + list + "' names " + QuoteForMessage(name) +
                                      ", which is not a key of the matrix");
    }
    if (value.kind != DocKind::kScalar) {
      throw SpecError(value.mark(), std::string("the value of ") + QuoteForMessage(name) + " in '" +
                                        list + "' must be a string");
    }
    pairs.emplace_back(&key, &value);
  }
  return pairs;
}

void StackMatrix::AddColumns(const Pairs& pairs) {
  for (const auto& [key, value] : pairs) {
    if (Column(doc_.scalar(*key)) == kNoColumn) columns_.push_back(doc_.scalar(*key));
  }
}

void StackMatrix::BuildProduct(const std::vector<const DocNode*>& lists,
                               const std::vector<Pairs>& excludes) {
  if (lists.empty()) return;
  const size_t width = columns_.size();
  std::vector<uint32_t> at(lists.size(), 0);  // an odometer: the last key turns fastest
  std::vector<std::string_view> row(width);
  while (true) {
    for (size_t k = 0; k < lists.size(); ++k) row[k] = doc_.scalar(doc_.child(*lists[k], at[k]));
    bool excluded = false;
    for (const Pairs& pairs : excludes) {
      bool all = true;
      for (const auto& [key, value] : pairs) {
        all = all && row[Column(doc_.scalar(*key))] == doc_.scalar(*value);
      }
      if ((excluded = all)) break;
    }
    if (!excluded) {
      cells_.insert(cells_.end(), row.begin(), row.end());
      from_include_.push_back(false);
    }
    size_t k = lists.size();
    while (k > 0 && ++at[k - 1] == lists[k - 1]->size) at[--k] = 0;
    if (k == 0) return;
  }
}

void StackMatrix::ApplyIncludes(const std::vector<Pairs>& includes) {
  const size_t width = columns_.size();
  const size_t product = from_include_.size();  // later includes see only these, as GitHub's do
  for (const Pairs& pairs : includes) {
    bool added = false;
    for (size_t c = 0; c < product; ++c) {
      std::string_view* row = &cells_[c * width];
      bool fits = true;
      for (const auto& [key, value] : pairs) {
        const size_t col = Column(doc_.scalar(*key));
        fits = fits && (col >= matrix_keys_ || row[col] == doc_.scalar(*value));
      }
      if (!fits) continue;
      for (const auto& [key, value] : pairs) row[Column(doc_.scalar(*key))] = doc_.scalar(*value);
      added = true;
    }
    if (added) continue;
    cells_.resize(cells_.size() + width);
    for (const auto& [key, value] : pairs) {
      cells_[cells_.size() - width + Column(doc_.scalar(*key))] = doc_.scalar(*value);
    }
    from_include_.push_back(true);
  }
}

void StackMatrix::MakeIds(SourceMark at, std::string_view stack_id) {
  const size_t width = columns_.size();
  const size_t count = from_include_.size();
  id_ends_.reserve(count);
  std::string raw;
  for (size_t c = 0; c < count; ++c) {
    const std::string_view* row = &cells_[c * width];
    raw.assign(stack_id);
    bool any = false;
    for (size_t k = 0; k < matrix_keys_; ++k) {
      if (row[k].data() == nullptr) continue;
      raw.append("-").append(row[k]);
      any = true;
    }
    for (size_t k = matrix_keys_; !any && k < width; ++k) {
      if (row[k].data() != nullptr) raw.append("-").append(row[k]);
    }
    ids_ += MatrixStackId(raw);
    id_ends_.push_back(ids_.size());
  }
  SpecIdIndex index;
  index.Reserve(count);
  for (size_t c = 0; c < count; ++c) {
    if (const uint32_t first = index.Add(id(c)); first != SpecIdIndex::kAbsent) {
      throw SpecError(at, "the matrix of stack " + QuoteForMessage(stack_id) +
                              " gives two stacks the id " + QuoteForMessage(id(c)) + ": " +
                              Describe(first) + " and " + Describe(c));
    }
  }
}

std::string StackMatrix::Describe(size_t combination) const {
  std::string out = "{";
  const std::string_view* row = &cells_[combination * columns_.size()];
  for (size_t k = 0; k < columns_.size(); ++k) {
    if (row[k].data() == nullptr) continue;
    if (out.size() > 1) out += ", ";
    out.append(columns_[k]).append(": ").append(QuoteForMessage(row[k]));
  }
  return out + "}";
}

bool StackMatrix::Find(size_t combination, std::string_view key, std::string_view* value,
                       std::string* why) const {
  const size_t col = Column(key);
  if (col == kNoColumn) {
    std::string keys;
    for (std::string_view k : columns_) keys.append(keys.empty() ? "" : ", ").append(k);
    *why = "unknown matrix key " + QuoteForMessage(key) + " (keys: " + keys + ")";
    return false;
  }
  const std::string_view cell = cells_[combination * columns_.size() + col];
  *value = cell.data() == nullptr ? std::string_view() : cell;
  return true;
}

}  // namespace hollerith
