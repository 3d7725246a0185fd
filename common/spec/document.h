// A parsed spec document as a compact, format-neutral tree (null, scalar, sequence, map), built
// from either YAML or JSON so that one schema reader validates both. Used only inside the spec
// parser: the readers report errors by throwing SpecError (the schema reader collects its errors
// and throws them all as SpecErrors), which ParseJobSpec turns into a Status.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/spec/job.h"
#include "common/spec/parser.h"

namespace hollerith {

// An error at a place in the spec text; `message` does not include the place.
class SpecError : public std::runtime_error {
 public:
  SpecError(SourceMark mark, const std::string& message)
      : std::runtime_error(message), mark(mark) {}
  SourceMark mark;
};

// Malformed YAML or JSON text (as opposed to a well-formed document that breaks the schema).
class SpecSyntaxError : public SpecError {
 public:
  using SpecError::SpecError;
};

// The schema errors of one spec, kept while reading goes on past each of them. Holds the
// `max_kept` first by position (line, then column, then the order they were added) and counts the
// rest: a million bad cards must not make a million messages.
class SpecErrorList {
 public:
  struct Entry {
    SourceMark mark;
    std::string message;
    uint64_t seq = 0;
  };

  explicit SpecErrorList(size_t max_kept) : max_kept_(max_kept) {}

  void Add(SourceMark mark, std::string message);
  // Runs one step of reading; a SpecError it throws is added here and reading goes on with the
  // next step. False if it failed.
  template <typename Step>
  bool Try(const Step& step) {
    try {
      step();
      return true;
    } catch (const SpecError& e) {
      Add(e.mark, e.what());
      return false;
    }
  }
  bool empty() const { return count_ == 0; }
  uint64_t count() const { return count_; }
  // The kept errors by position; count() - Sorted().size() more were dropped.
  std::vector<Entry> Sorted() const;

 private:
  void Trim();

  size_t max_kept_;
  uint64_t count_ = 0;
  std::vector<Entry> entries_;
};

// Every schema error of a spec (see SpecErrorList), thrown once reading has finished.
class SpecErrors : public std::runtime_error {
 public:
  explicit SpecErrors(SpecErrorList list)
      : std::runtime_error("errors in the spec"), list(std::move(list)) {}
  SpecErrorList list;
};

enum class DocKind : uint8_t { kNull, kScalar, kSequence, kMap };

// One value. A map's children alternate key, value. Children of a container are contiguous.
struct DocNode {
  uint32_t line = 0;
  uint32_t column = 0;
  uint64_t first = 0;  // scalar: offset in DocTree::text; container: index of first child
  uint32_t size = 0;   // scalar: byte length; sequence: items; map: 2 * entries
  DocKind kind = DocKind::kNull;
  uint16_t file = 0;  // SourceMark::file: which file of the spec it was read from

  SourceMark mark() const {
    return {static_cast<int>(line), static_cast<int>(column), static_cast<int>(file)};
  }
};
// A million-card spec is tens of millions of nodes: the file index lives in padding.
static_assert(sizeof(DocNode) == 24);

class DocTree {
 public:
  const DocNode& root() const { return nodes_.back(); }
  const DocNode& child(const DocNode& container, size_t i) const {
    return nodes_[container.first + i];
  }
  std::string_view scalar(const DocNode& n) const {
    return std::string_view(text_).substr(n.first, n.size);
  }
  // Every scalar's bytes, back to back: one search finds whether any scalar holds a text.
  std::string_view all_scalars() const { return text_; }

 private:
  friend class DocTreeBuilder;
  std::vector<DocNode> nodes_;  // the root is last
  std::string text_;            // all scalar bytes, back to back
};

// Receives parse events in document order and builds a DocTree without recursion, enforcing the
// nesting and string-size limits as it goes (so a reader can stop at the first offending byte).
class DocTreeBuilder {
 public:
  // `source_bytes` (the size of the text being read) sizes the buffers up front: growing them by
  // doubling would touch twice the memory, which is most of the cost for big specs.
  DocTreeBuilder(const SpecLimits& limits, size_t source_bytes);
  // For a tree made from another (an expansion), whose size is known better than from text.
  struct Reserve {
    size_t nodes = 0;
    size_t text_bytes = 0;
  };
  DocTreeBuilder(const SpecLimits& limits, Reserve reserve);

  void Null(SourceMark mark);
  void Scalar(SourceMark mark, std::string_view value);
  void StartSequence(SourceMark mark) { Open(mark, DocKind::kSequence); }
  void StartMap(SourceMark mark) { Open(mark, DocKind::kMap); }
  void End();  // closes the innermost open sequence or map

  int depth() const { return static_cast<int>(open_.size()); }
  size_t node_count() const { return tree_.nodes_.size() + pending_.size(); }
  size_t text_bytes() const { return tree_.text_.size(); }
  // The key just read in the innermost open map when its value is due, else nullptr.
  const DocNode* PendingKey() const;
  bool complete() const { return open_.empty() && pending_.size() == 1; }
  DocTree Finish();  // requires complete()

 private:
  void Open(SourceMark mark, DocKind kind);
  static DocNode Leaf(SourceMark mark, DocKind kind);

  SpecLimits limits_;
  DocTree tree_;
  std::vector<DocNode> pending_;  // finished nodes whose container is still open
  std::vector<size_t> open_;      // for each open container: its index in pending_
};

}  // namespace hollerith
