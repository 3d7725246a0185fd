// Family common/spec/ (library hollerith_job): the model every other family speaks. Depends on
// nothing but the standard library.
//
// The job model: a job is a set of stacks of cards plus dependencies and an optional combine card.
// Stacks and cards are addressed by index (CardRef) everywhere after parsing; ids are for people.
// The combine card, when present, is appended as a last synthetic stack (is_combine) whose one card
// depends on the last card of every stack and receives every declared output, so that every
// component (scheduler core, stack runner, verify) treats it like any other stack.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hollerith {

using Duration = std::chrono::milliseconds;

// 1-based line and column in the spec file; 0 when unknown (e.g. synthesised entries).
struct SourceMark {
  int line = 0;
  int column = 0;
};

struct CardRef {
  uint32_t stack = 0;
  uint32_t card = 0;
  friend bool operator==(const CardRef&, const CardRef&) = default;
  friend auto operator<=>(const CardRef&, const CardRef&) = default;
};

enum class BuiltinKind { kNone, kNoop, kSleep };

// A file published by card `from` (one of its declared outputs, `path`), copied into the consuming
// card's workspace at `dest` (equal to `path` for ordinary cards, results/STACK.CARD/path for
// combine).
struct InputSpec {
  CardRef from;
  std::string path;
  std::string dest;
};

// Resource limits of one card's process (and what it starts). Zero means "not set": the node's
// default applies (common/runner/: rlimits in the child, cgroup v2 where the node has one).
struct CardLimits {
  uint64_t memory_bytes = 0;  // RLIMIT_DATA; memory.max
  Duration cpu{0};            // RLIMIT_CPU (whole seconds, rounded up), per process
  uint64_t files = 0;         // RLIMIT_NOFILE: open descriptors per process
  uint64_t processes = 0;     // RLIMIT_NPROC (per user: see runner/card_limits.h); pids.max
  bool empty() const {
    return memory_bytes == 0 && cpu.count() == 0 && files == 0 && processes == 0;
  }
  friend bool operator==(const CardLimits&, const CardLimits&) = default;
};

struct CardSpec {
  std::string id;
  // Exactly one of: shell (run by /bin/sh -c), argv (exec without a shell), builtin.
  std::string shell;
  std::vector<std::string> argv;
  BuiltinKind builtin = BuiltinKind::kNone;
  Duration sleep{0};  // for BuiltinKind::kSleep

  std::vector<CardRef> after;  // explicit cross-stack dependencies
  std::vector<InputSpec> inputs;
  std::vector<std::string> outputs;  // workspace-relative paths published on success
  std::vector<std::pair<std::string, std::string>> env;
  Duration timeout{0};  // 0 means no timeout
  int retries = 0;
  CardLimits limits;
  SourceMark mark;
};

struct StackSpec {
  std::string id;
  std::string node;                                         // optional placement: worker name
  std::vector<std::pair<std::string, std::string>> labels;  // optional placement: worker labels
  std::vector<CardSpec> cards;
  bool is_combine = false;
  SourceMark mark;
};

struct JobSpec {
  std::string name;
  std::vector<StackSpec> stacks;  // the combine stack, if any, is last
  std::string source;             // file name used in error messages

  bool has_combine() const { return !stacks.empty() && stacks.back().is_combine; }
  const CardSpec& card(CardRef r) const { return stacks[r.stack].cards[r.card]; }
  size_t card_count() const;
  // "STACK.CARD"; the combine card is simply "combine".
  std::string card_name(CardRef r) const;
};

inline constexpr const char* kCombineName = "combine";

// Ids of stacks and cards: 1..kMaxIdLength characters of A-Z a-z 0-9 _ - (so they are safe as
// file names: workspaces are named after them). Job names: the same, up to kMaxJobNameLength.
inline constexpr size_t kMaxIdLength = 64;
inline constexpr size_t kMaxJobNameLength = 128;
bool IsIdChar(char c);
bool IsValidId(std::string_view s, size_t max_length = kMaxIdLength);

// Every card that must complete before `r` may start, excluding its predecessor in the stack:
// explicit `after` entries plus the producers of its inputs (deduplicated, sorted).
std::vector<CardRef> CrossStackDependencies(const JobSpec& job, CardRef r);
// The same for `card` of stack `own_stack`, when only its stack's spec is at hand (a node).
std::vector<CardRef> CrossStackDependencies(const CardSpec& card, uint32_t own_stack);

// Reverse index of CrossStackDependencies: for each card, the cards (of other stacks) waiting on
// it.
class DependentsIndex {
 public:
  explicit DependentsIndex(const JobSpec& job);
  const std::vector<CardRef>& of(CardRef r) const {
    return dependents_[offsets_[r.stack] + r.card];
  }
  // Number of cross-stack dependencies of r (how many releases it must receive before starting).
  uint32_t dependency_count(CardRef r) const { return counts_[offsets_[r.stack] + r.card]; }

 private:
  std::vector<size_t> offsets_;
  std::vector<std::vector<CardRef>> dependents_;
  std::vector<uint32_t> counts_;
};

}  // namespace hollerith
