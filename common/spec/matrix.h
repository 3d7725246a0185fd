// A stack's `matrix:`: the combinations of values it makes one stack each of, with GitHub
// Actions' `include:` and `exclude:`, and the id of each generated stack.
//
//   matrix: {os: [debian, alpine], level: [1, 2, 3], exclude: [{os: alpine, level: 3}],
//            include: [{os: alpine, extra: x}, {os: arch}]}
//
// Combinations: the cartesian product of the keys' values in key order, the last key varying
// fastest; then every `exclude` entry removes the combinations that have all of its key: value
// pairs; then, for each `include` entry in order, its pairs are added to every product
// combination whose matrix keys it does not contradict (pairs of keys that are not matrix keys
// may overwrite what an earlier include added), or, if it fits none, it is a new combination.
//
// Ids: STACK-V1-V2... (the values of the matrix keys in key order; a combination made by
// `include` uses the matrix keys it has, or, with none of them, its own values in the order
// written), each character outside A-Z a-z 0-9 _ - written as '_'. An id longer than
// kMaxIdLength keeps its first 55 characters and ends with '-' and the 8 hex digits of the
// 32-bit FNV-1a hash of the whole id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/spec/document.h"

namespace hollerith {

inline constexpr size_t kMaxMatrixKeys = 32;         // matrix keys and include-only keys
inline constexpr size_t kMaxMatrixEntries = 1024;    // include or exclude entries
inline constexpr uint64_t kMaxMatrixWork = 1 << 26;  // (include + exclude entries) x product

class StackMatrix {
 public:
  // The cards a matrix may make: `room` is what the job's limit (`job_limit`) leaves to it.
  struct Budget {
    uint64_t room = 0;
    uint64_t job_limit = 0;
  };
  // Reads `matrix` (the value of stack `stack_id`'s `matrix:` key, at `at`), whose stacks have
  // `cards` cards each. Throws SpecError: a malformed matrix, colliding ids, no combination left,
  // or more cards than the budget has room for (checked on the product before it is made, then
  // on what exclude and include leave). Views into `doc`, which must outlive this.
  StackMatrix(const DocTree& doc, const DocNode& matrix, SourceMark at, std::string_view stack_id,
              uint64_t cards, Budget budget);

  size_t size() const { return id_ends_.size(); }
  std::string_view id(size_t combination) const {
    const size_t begin = combination == 0 ? 0 : id_ends_[combination - 1];
    return std::string_view(ids_).substr(begin, id_ends_[combination] - begin);
  }
  // The value of `key` in `combination`; false (and `*why` set) if the key is not one of the
  // matrix's. A key that only some `include` entries set is "" in the other combinations.
  bool Find(size_t combination, std::string_view key, std::string_view* value,
            std::string* why) const;

 private:
  using Pairs = std::vector<std::pair<const DocNode*, const DocNode*>>;

  size_t Column(std::string_view key) const;
  Pairs ReadEntry(const DocNode& entry, const char* list, bool matrix_keys_only) const;
  void AddColumns(const Pairs& pairs);
  void BuildProduct(const std::vector<const DocNode*>& lists, const std::vector<Pairs>& excludes);
  void ApplyIncludes(const std::vector<Pairs>& includes);
  void MakeIds(SourceMark at, std::string_view stack_id);
  std::string Describe(size_t combination) const;

  const DocTree& doc_;
  std::vector<std::string_view> columns_;  // the matrix keys, then keys only `include` sets
  size_t matrix_keys_ = 0;
  std::vector<std::string_view> cells_;  // columns_.size() per combination; data() null: not set
  std::vector<bool> from_include_;       // per combination: made by an `include` entry
  std::string ids_;                      // every id, back to back
  std::vector<size_t> id_ends_;
};

// What MakeIds does to one id: `_` for characters outside the id alphabet, and the hash suffix
// when it is longer than kMaxIdLength.
std::string MatrixStackId(std::string_view raw);

}  // namespace hollerith
