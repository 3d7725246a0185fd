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

#include "common/base/out_of_line.h"
#include "common/spec/resources.h"

namespace hollerith {

using Duration = std::chrono::milliseconds;

// 1-based line and column in a spec file; 0 when unknown (e.g. synthesised entries). `file` is 0
// for the file given, else which of its `include:` files (JobSpec::included[file - 1]).
struct SourceMark {
  int line = 0;
  int column = 0;
  int file = 0;
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

// What few cards set: kept out of line (CardSpec::rare), so a card that sets none of it costs
// one pointer instead of these 112 bytes.
struct CardRareFields {
  std::vector<std::string> argv;  // exec'd without a shell (instead of CardSpec::shell)
  std::vector<std::pair<std::string, std::string>> env;
  CardLimits limits;
  std::string cache_version;  // `cache_version:`, part of the cache key
};

struct CardSpec {  // 184 bytes: a million-card job keeps a million of these
  std::string id;
  // Exactly one of: shell (run by /bin/sh -c), argv (exec without a shell), builtin.
  std::string shell;
  std::vector<CardRef> after;  // explicit cross-stack dependencies
  std::vector<InputSpec> inputs;
  std::vector<std::string> outputs;  // workspace-relative paths published on success
  Duration sleep{0};                 // for BuiltinKind::kSleep
  Duration timeout{0};               // 0 means no timeout
  int retries = 0;
  BuiltinKind builtin = BuiltinKind::kNone;
  SourceMark mark;
  // `cache:` (its own, its stack's or the job's): a success may be reused by a later run whose
  // card has the same cache key (common/cache/cache_key.h); `cache_version:` is part of the key.
  bool cache = false;
  OutOfLine<CardRareFields> rare;

  const std::vector<std::string>& argv() const { return rare.get().argv; }
  std::vector<std::string>& mutable_argv() { return rare.mutable_get().argv; }
  const std::vector<std::pair<std::string, std::string>>& env() const { return rare.get().env; }
  std::vector<std::pair<std::string, std::string>>& mutable_env() { return rare.mutable_get().env; }
  const CardLimits& limits() const { return rare.get().limits; }
  CardLimits& mutable_limits() { return rare.mutable_get().limits; }
  const std::string& cache_version() const { return rare.get().cache_version; }
  std::string& mutable_cache_version() { return rare.mutable_get().cache_version; }
};
static_assert(sizeof(void*) != 8 || sizeof(CardSpec) == 184);

// A stack whose `matrix:` is read at run time (`matrix: {from: STACK.CARD:PATH}`): a template,
// never placed itself. When card `source` succeeds, the JSON list it wrote to its output `path`
// makes one stack per item (ExpandFanOut, common/spec/fanout.h), appended after the stacks the
// spec wrote; references to the template's cards (a fan-in, and the combine card's) then name
// every instance instead. Until then, a stack with a card that refers to the template waits.
struct FanOutSpec {
  CardRef source;
  std::string path;  // one of the source card's declared outputs
  SourceMark mark;   // of the stack's `matrix:`
  bool expanded = false;
  std::string error;   // expanded: why no instances were made ("" if they were)
  uint32_t first = 0;  // expanded: the instances are stacks [first, first + count)
  uint32_t count = 0;
};

struct StackSpec {
  std::string id;
  std::string node;                                         // optional placement: worker name
  std::vector<std::pair<std::string, std::string>> labels;  // optional placement: worker labels
  std::vector<CardSpec> cards;
  bool is_combine = false;
  std::shared_ptr<const FanOutSpec> fanout;  // set on a run-time matrix stack (a template)
  uint32_t instance_of = UINT32_MAX;         // a run-time matrix instance: its template stack
  // What each of its cards holds on its worker while it runs (`resources:`; cpu=1 by default).
  // The coordinator places the stack only on a worker that has that much; a worker starts the
  // card once that much of it is free. A memory request is also the card's memory limit unless
  // its `limits:` say otherwise.
  Resources resources = DefaultRequest();
  SourceMark mark;

  bool is_template() const { return fanout != nullptr; }
};

// A job's `priority:`: higher runs first where stacks wait (a worker's slots, the coordinator's
// placement queue); equal priorities keep their order.
inline constexpr int kMinPriority = -1000;
inline constexpr int kMaxPriority = 1000;

struct JobSpec {
  std::string name;
  int priority = 0;
  // `tenant:`: whose share and quota the job counts against; empty: the submitter's own name.
  std::string tenant;
  // The stacks the spec wrote (the combine stack, if any, last of them), then the instances of
  // run-time matrix stacks in the order they were made.
  std::vector<StackSpec> stacks;
  std::string source;                 // file name used in error messages
  std::vector<std::string> included;  // the files `include:` read, as errors name them
  // "FILE:LINE:COL" of a mark in this job's files.
  std::string Where(SourceMark mark) const;
  // How many stacks the spec wrote, once run-time instances follow them; 0 while none do.
  uint32_t written_stacks = 0;
  bool has_fanout = false;  // some stack is a run-time matrix template

  uint32_t spec_stacks() const {
    return written_stacks ? written_stacks : static_cast<uint32_t>(stacks.size());
  }
  bool has_combine() const { return spec_stacks() > 0 && stacks[spec_stacks() - 1].is_combine; }
  uint32_t combine_stack() const { return spec_stacks() - 1; }  // if has_combine()
  const CardSpec& card(CardRef r) const { return stacks[r.stack].cards[r.card]; }
  // Cards that run: those of a run-time matrix template are not (its instances' are).
  size_t card_count() const;
  // The stacks in the order people read them: as written, with each run-time matrix template
  // replaced by its instances (none while its list is not read).
  std::vector<uint32_t> DisplayOrder() const;
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
