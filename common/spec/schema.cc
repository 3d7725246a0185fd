#include "common/spec/schema.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/spec/id_index.h"
#include "common/spec/limits.h"
#include "common/spec/parser.h"
#include "common/spec/workspace_path.h"

namespace hollerith {
namespace {

constexpr size_t kMaxNameLength = kMaxJobNameLength;
constexpr int kMaxRetries = 100;

bool IsValidEnvName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!IsIdChar(c) || c == '-') return false;
  }
  return true;
}

std::string MarkText(SourceMark m) {
  return std::to_string(m.line) + ":" + std::to_string(m.column);
}

const char* KindName(DocKind k) {
  switch (k) {
    case DocKind::kNull:
      return "empty";
    case DocKind::kScalar:
      return "a string";
    case DocKind::kSequence:
      return "a list";
    case DocKind::kMap:
      return "a map";
  }
  return "?";
}

// The keys a card may have; the combine card accepts a subset.
enum CardKey : size_t {
  kId,
  kRun,
  kBuiltin,
  kAfter,
  kInputs,
  kOutputs,
  kTimeout,
  kRetries,
  kEnv,
  kLimits,
  kCache,
  kCacheVersion
};
constexpr std::array<std::string_view, 12> kCardKeys = {
    "id",      "run",     "builtin", "after",  "inputs", "outputs",
    "timeout", "retries", "env",     "limits", "cache",  "cache_version"};
constexpr uint32_t kCombineKeys = 1u << kId | 1u << kRun | 1u << kBuiltin | 1u << kTimeout |
                                  1u << kRetries | 1u << kEnv | 1u << kLimits;
constexpr uint32_t kAllKeys = ~0u;
enum JobKey : size_t { kName, kStacks, kCombine, kPriority, kTenant, kJobCache, kJobCacheVersion };
constexpr std::array<std::string_view, 7> kJobKeys = {
    "name", "stacks", "combine", "priority", "tenant", "cache", "cache_version"};
// `matrix` reaches the schema only as a run-time matrix (`{from: ...}`): expansion (expand.h)
// writes out every other.
enum StackKey : size_t {
  kNode,
  kLabels,
  kCards,
  kMatrix,
  kResources,
  kStackCache,
  kStackCacheVersion
};
constexpr std::array<std::string_view, 7> kStackKeys = {
    "node", "labels", "cards", "matrix", "resources", "cache", "cache_version"};

// `cache:` and `cache_version:` as a card inherits them: its own, else its stack's, else the
// job's (docs/cache.md).
struct CacheSetting {
  bool cache = false;
  std::string_view version;
};

struct Field {
  const DocNode* key = nullptr;
  const DocNode* value = nullptr;
};

// A reference from a card's `after` or `inputs` entry, resolved once every stack is known.
struct PendingRef {
  CardRef consumer;
  uint32_t index = 0;  // into the consumer's after or inputs
  bool is_input = false;
  const DocNode* node = nullptr;
  std::string_view text;   // as written
  std::string_view stack;  // parts of text
  std::string_view card;
};

struct ProducedFile {
  size_t card;  // global card index
  std::string_view path;
  bool operator==(const ProducedFile&) const = default;
};

struct ProducedFileHash {
  size_t operator()(const ProducedFile& f) const {
    return std::hash<std::string_view>()(f.path) ^ (f.card * 0x9E3779B97F4A7C15ull);
  }
};

class SchemaReader {
 public:
  SchemaReader(const DocTree& doc, size_t max_errors) : doc_(doc), errors_(max_errors) {}

  JobSpec Read() {
    const DocNode& root = doc_.root();
    if (root.kind != DocKind::kMap) {
      Fail(root, std::string("the spec must be a map with 'name' and 'stacks', not ") +
                     KindName(root.kind));
    }
    const auto fields = ReadFields(root, kJobKeys, "the job");
    if (!fields[kName].value) Record(root, "missing 'name'");
    if (!fields[kStacks].value) Record(root, "missing 'stacks'");
    if (const DocNode* priority = fields[kPriority].value) {
      Try([&] { job_.priority = ReadPriority(*priority); });
    }
    if (const DocNode* name = fields[kName].value) {
      Try([&] { job_.name = Id(*name, "job name", kMaxNameLength); });
    }
    if (const DocNode* tenant = fields[kTenant].value) {
      Try([&] { job_.tenant = Id(*tenant, "tenant", kMaxIdLength); });
    }
    job_cache_ = ReadCacheSetting(fields[kJobCache].value, fields[kJobCacheVersion].value,
                                  "the job", CacheSetting{});
    if (const DocNode* stacks = fields[kStacks].value) Try([&] { ReadStacks(*stacks); });
    CardSpec combine;
    if (const DocNode* node = fields[kCombine].value) Try([&] { combine = ReadCombine(*node); });
    ResolveReferences();
    ResolveFanOuts();
    if (!errors_.empty()) throw SpecErrors(std::move(errors_));
    if (fields[kCombine].value) AddCombineStack(std::move(combine), *fields[kCombine].key);
    return std::move(job_);
  }

 private:
  [[noreturn]] void Fail(const DocNode& at, const std::string& message) const {
    throw SpecError(at.mark(), message);
  }

  void Record(const DocNode& at, std::string message) const {
    errors_.Add(at.mark(), std::move(message));
  }

  // Runs one step of reading (a key, a card, a field); if it fails, records the error and lets
  // the caller go on with the next one. False if it failed.
  template <typename Step>
  bool Try(const Step& step) const {
    return errors_.Try(step);
  }

  // `What` names the value in an error message: a string, or a callable that makes one, so that
  // the message costs nothing unless there is an error (this runs for each of a million cards).
  template <typename What>
  static std::string Describe(const What& what) {
    if constexpr (std::is_invocable_v<const What&>) {
      return what();
    } else {
      return std::string(what);
    }
  }

  template <typename What>
  std::string_view Scalar(const DocNode& n, const What& what) const {
    if (n.kind != DocKind::kScalar) {
      Fail(n, Describe(what) + " must be a string, not " + KindName(n.kind));
    }
    return doc_.scalar(n);
  }

  template <typename What>
  void ExpectKind(const DocNode& n, DocKind kind, const What& what) const {
    if (n.kind != kind) {
      Fail(n, Describe(what) + " must be " + KindName(kind) + ", not " + KindName(n.kind));
    }
  }

  std::string_view Id(const DocNode& n, const char* what, size_t max_length = kMaxIdLength) const {
    const std::string_view id = Scalar(n, what);
    if (!IsValidId(id, max_length)) {
      Fail(n, std::string("bad ") + what + " " + QuoteForMessage(id) + " (use 1-" +
                  std::to_string(max_length) + " characters from A-Z a-z 0-9 _ -)");
    }
    return id;
  }

  // Reads the entries of a map whose keys are those of `keys` selected by the bit mask `allowed`;
  // other and repeated keys are errors (recorded and skipped).
  template <size_t N>
  std::array<Field, N> ReadFields(const DocNode& map, const std::array<std::string_view, N>& keys,
                                  const std::string& where, uint32_t allowed = kAllKeys) const {
    std::array<Field, N> fields;
    for (uint32_t i = 0; i < map.size; i += 2) {
      const DocNode& key = doc_.child(map, i);
      Try([&] {
        const std::string_view name = Scalar(key, [&] { return "a key in " + where; });
        size_t k = 0;
        while (k < N && keys[k] != name) ++k;
        if (k == N || !(allowed & (1u << k))) {
          std::string expected;
          for (size_t j = 0; j < N; ++j) {
            if (allowed & (1u << j))
              expected += (expected.empty() ? "" : ", ") + std::string(keys[j]);
          }
          Fail(key, "unknown key " + QuoteForMessage(name) + " in " + where +
                        " (expected one of: " + expected + ")");
        }
        if (fields[k].key) Fail(key, "duplicate key " + QuoteForMessage(name) + " in " + where);
        fields[k] = Field{&key, &doc_.child(map, i + 1)};
      });
    }
    return fields;
  }

  // Reads a map of string to string (labels, env), keeping the order of the file.
  std::vector<std::pair<std::string, std::string>> ReadStringMap(
      const DocNode& map, const std::string& what, bool (*valid_key)(std::string_view),
      const char* key_rule) const {
    ExpectKind(map, DocKind::kMap, what);
    std::vector<std::pair<std::string, std::string>> out;
    std::unordered_set<std::string_view> seen;
    for (uint32_t i = 0; i < map.size; i += 2) {
      const DocNode& key = doc_.child(map, i);
      Try([&] {
        const std::string_view name = Scalar(key, [&] { return "a key in " + what; });
        if (!valid_key(name))
          Fail(key, "bad key " + QuoteForMessage(name) + " in " + what + key_rule);
        if (!seen.insert(name).second)
          Fail(key, "duplicate key " + QuoteForMessage(name) + " in " + what);
        const std::string_view value =
            Scalar(doc_.child(map, i + 1), [&] { return what + " " + QuoteForMessage(name); });
        out.emplace_back(name, value);
      });
    }
    return out;
  }

  void ReadStacks(const DocNode& stacks) {
    ExpectKind(stacks, DocKind::kMap, "'stacks'");
    if (stacks.size == 0) Fail(stacks, "'stacks' must not be empty");
    job_.stacks.reserve(stacks.size / 2 + 1);
    stack_index_.Reserve(stacks.size / 2);
    for (uint32_t i = 0; i < stacks.size; i += 2) {
      const DocNode& key = doc_.child(stacks, i);
      // A stack with a bad or repeated id is skipped (references to it fail on their own).
      Try([&] {
        const std::string_view id = Id(key, "stack id");
        if (const uint32_t first = stack_index_.Add(id); first != SpecIdIndex::kAbsent) {
          Fail(key, "duplicate stack id " + QuoteForMessage(id) + " (first at " +
                        MarkText(job_.stacks[first].mark) + ")");
        }
        StackSpec& stack = job_.stacks.emplace_back();
        stack.id = id;
        stack.mark = key.mark();
        card_index_.emplace_back();
        stack_complete_.push_back(false);
        ReadStack(static_cast<uint32_t>(job_.stacks.size() - 1), doc_.child(stacks, i + 1));
      });
    }
  }

  // Marks the stack complete if every card in its list was read (a skipped card may be the one
  // a reference names: such references are not reported again as unknown).
  void ReadStack(uint32_t stack_index, const DocNode& value) {
    const std::string where = "stack " + QuoteForMessage(job_.stacks[stack_index].id);
    ExpectKind(value, DocKind::kMap, where);
    const auto fields = ReadFields(value, kStackKeys, where);
    if (const DocNode* node = fields[kNode].value) {
      Try([&] {
        std::string& name = job_.stacks[stack_index].node;
        name = Scalar(*node, "'node' of " + where);
        if (name.empty()) Fail(*node, "'node' of " + where + " must not be empty");
      });
    }
    if (const DocNode* labels = fields[kLabels].value) {
      Try([&] {
        job_.stacks[stack_index].labels = ReadStringMap(
            *labels, "'labels' of " + where, [](std::string_view k) { return !k.empty(); },
            " (must not be empty)");
      });
    }
    if (const DocNode* matrix = fields[kMatrix].value) {
      Try([&] { ReadRunTimeMatrix(stack_index, *fields[kMatrix].key, *matrix, where); });
    }
    if (const DocNode* resources = fields[kResources].value) {
      ReadResources(*resources, where, job_.stacks[stack_index].resources);
    }
    stack_cache_ = ReadCacheSetting(fields[kStackCache].value, fields[kStackCacheVersion].value,
                                    where, job_cache_);
    const DocNode* cards = fields[kCards].value;
    if (!cards || cards->kind != DocKind::kSequence || cards->size == 0) {
      Fail(cards ? *cards : value, where + " needs a non-empty 'cards' list");
    }
    card_index_[stack_index].Reserve(cards->size);
    job_.stacks[stack_index].cards.reserve(cards->size);
    bool complete = true;
    for (uint32_t i = 0; i < cards->size; ++i) {
      complete &= ReadCard(doc_.child(*cards, i), stack_index, i);
    }
    stack_complete_[stack_index] = complete;
  }

  // `matrix: {from: STACK.CARD:PATH}`: resolved with the other references (ResolveFanOuts).
  void ReadRunTimeMatrix(uint32_t stack_index, const DocNode& key, const DocNode& matrix,
                         const std::string& where) {
    static constexpr std::array<std::string_view, 1> kFromKeys = {"from"};
    ExpectKind(matrix, DocKind::kMap, "'matrix' of " + where);
    const auto fields = ReadFields(matrix, kFromKeys, "the run-time 'matrix' of " + where);
    if (!fields[0].value) Fail(matrix, "'matrix' of " + where + " needs 'from'");
    const DocNode& from = *fields[0].value;
    PendingRef ref{{stack_index, 0}, 0, true, &from, Scalar(from, [&] {
                     return "'from' of the 'matrix' of " + where;
                   })};
    const size_t colon = ref.text.find(':');
    if (colon == std::string_view::npos || !SplitRef(ref.text.substr(0, colon), ref) ||
        WorkspacePathProblem(ref.text.substr(colon + 1))) {
      Fail(from, "bad 'from' " + QuoteForMessage(ref.text) + " in the 'matrix' of " + where +
                     " (expected STACK.CARD:PATH, an output of that card holding a JSON list)");
    }
    auto fanout = std::make_shared<FanOutSpec>();
    fanout->path = ref.text.substr(colon + 1);
    fanout->mark = key.mark();
    job_.stacks[stack_index].fanout = std::move(fanout);
    job_.has_fanout = true;
    fanout_refs_.push_back(ref);
  }

  void ResolveFanOuts() {
    for (const PendingRef& ref : fanout_refs_) {
      StackSpec& stack = job_.stacks[ref.consumer.stack];
      auto fail = [&](const std::string& why) {
        Record(*ref.node, "'matrix' of stack " + QuoteForMessage(stack.id) + " comes from " +
                              QuoteForMessage(ref.text) + ", " + why);
      };
      const uint32_t from_stack = stack_index_.Find(ref.stack);
      if (from_stack == SpecIdIndex::kAbsent) {
        fail("an unknown stack");
        continue;
      }
      const uint32_t card = card_index_[from_stack].Find(ref.card);
      if (card == SpecIdIndex::kAbsent) {
        if (stack_complete_[from_stack]) fail("an unknown card");
        continue;
      }
      if (from_stack == ref.consumer.stack) {
        fail("a card of the stack itself (the list must exist before the stack does)");
        continue;
      }
      if (job_.stacks[from_stack].is_template()) {
        fail("a card of another run-time matrix stack (not supported: make the list elsewhere)");
        continue;
      }
      auto fanout = std::make_shared<FanOutSpec>(*stack.fanout);
      if (!IsDeclaredOutput({from_stack, card}, fanout->path)) {
        fail("but card " + QuoteForMessage(job_.card_name({from_stack, card})) +
             " does not declare output " + QuoteForMessage(fanout->path));
        continue;
      }
      fanout->source = {from_stack, card};
      stack.fanout = std::move(fanout);
    }
  }

  const DocNode* FindValue(const DocNode& map, std::string_view name) const {
    for (uint32_t i = 0; i < map.size; i += 2) {
      const DocNode& key = doc_.child(map, i);
      if (key.kind == DocKind::kScalar && doc_.scalar(key) == name) return &doc_.child(map, i + 1);
    }
    return nullptr;
  }

  // Reads the card at `position` in the stack's list; a card whose id is missing, bad or
  // repeated is skipped (false). A card with other errors is kept, without its bad fields.
  bool ReadCard(const DocNode& node, uint32_t stack_index, uint32_t position) {
    return Try([&] {
      StackSpec& stack = job_.stacks[stack_index];
      auto numbered = [&] {
        return "card " + std::to_string(position + 1) + " of stack " + QuoteForMessage(stack.id);
      };
      ExpectKind(node, DocKind::kMap, numbered);
      const DocNode* id_node = FindValue(node, "id");
      if (!id_node) Fail(node, numbered() + " has no 'id'");
      const std::string_view id = Id(*id_node, "card id");
      std::string where = "card '";  // ids need no quoting
      where.append(stack.id).append(".").append(id).append("'");
      const auto fields = ReadFields(node, kCardKeys, where);

      if (const uint32_t first = card_index_[stack_index].Add(id); first != SpecIdIndex::kAbsent) {
        Fail(*id_node, "duplicate card id " + QuoteForMessage(id) + " in stack " +
                           QuoteForMessage(stack.id) + " (first at " +
                           MarkText(stack.cards[first].mark) + ")");
      }
      const CardRef self{stack_index, static_cast<uint32_t>(stack.cards.size())};
      CardSpec& card = stack.cards.emplace_back();
      card.id = id;
      card.mark = node.mark();
      ReadCommonFields(fields, node, where, card);
      const CacheSetting cache =
          ReadCacheSetting(fields[kCache].value, fields[kCacheVersion].value, where, stack_cache_);
      card.cache = cache.cache;
      if (!cache.version.empty()) card.mutable_cache_version() = cache.version;
      if (const DocNode* after = fields[kAfter].value) {
        Try([&] { ReadAfter(*after, self, where, card); });
      }
      if (const DocNode* inputs = fields[kInputs].value) {
        Try([&] { ReadInputs(*inputs, self, where, card); });
      }
      if (const DocNode* outputs = fields[kOutputs].value) {
        Try([&] { ReadOutputs(*outputs, where, card); });
      }
    });
  }

  // The fields a user card shares with the combine card: command, env, timeout, retries.
  void ReadCommonFields(const std::array<Field, kCardKeys.size()>& fields, const DocNode& node,
                        const std::string& where, CardSpec& card) const {
    Try([&] { ReadCommand(fields[kRun], fields[kBuiltin], node, where, card); });
    if (const DocNode* env = fields[kEnv].value) {
      Try([&] {
        card.mutable_env() =
            ReadStringMap(*env, "'env' of " + where, IsValidEnvName,
                          " (names are letters, digits and _, not starting with a digit)");
      });
    }
    if (const DocNode* timeout = fields[kTimeout].value) {
      Try([&] { card.timeout = ReadDuration(*timeout, [&] { return where + ", 'timeout'"; }); });
    }
    if (const DocNode* retries = fields[kRetries].value) {
      Try([&] { card.retries = ReadRetries(*retries, where); });
    }
    if (const DocNode* limits = fields[kLimits].value) ReadLimits(*limits, where, card);
  }

  // `resources: {cpu: 2, memory: 4GiB, gpu: 1}`, any subset; cpu stays 1 unless given.
  void ReadResources(const DocNode& map, const std::string& where, Resources& out) const {
    auto what = [&] { return "'resources' of " + where; };
    Try([&] { ExpectKind(map, DocKind::kMap, what); });
    if (map.kind != DocKind::kMap) return;
    std::vector<std::string_view> seen;
    for (uint32_t i = 0; i + 1 < map.size; i += 2) {
      const DocNode& key = doc_.child(map, i);
      const DocNode& value = doc_.child(map, i + 1);
      Try([&] {
        const std::string_view name = Scalar(key, [&] { return "each key of " + what(); });
        if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
          Fail(key, "duplicate key " + QuoteForMessage(name) + " in " + what());
        }
        seen.push_back(name);
        const std::string_view text =
            Scalar(value, [&] { return what() + ", " + QuoteForMessage(name); });
        if (Status s = SetResource(out, name, text); !s.ok()) {
          Fail(IsResourceName(name) ? value : key, what() + ": " + s.message());
        }
      });
    }
  }

  // `cache: true|false` and `cache_version: TEXT` at one level, over what the level above set.
  CacheSetting ReadCacheSetting(const DocNode* cache, const DocNode* version,
                                const std::string& where, CacheSetting inherited) const {
    if (cache) {
      Try([&] {
        const std::string_view text = Scalar(*cache, [&] { return "'cache' of " + where; });
        if (text != "true" && text != "false") {
          Fail(*cache,
               "'cache' of " + where + " must be true or false, not " + QuoteForMessage(text));
        }
        inherited.cache = text == "true";
      });
    }
    if (version) {
      Try([&] {
        inherited.version = Scalar(*version, [&] { return "'cache_version' of " + where; });
        if (inherited.version.size() > kMaxNameLength) {
          Fail(*version, "'cache_version' of " + where + " is longer than " +
                             std::to_string(kMaxNameLength) + " characters");
        }
      });
    }
    return inherited;
  }

  // `limits: {memory: 2GiB, cpu: 60s, files: 1024, processes: 256}`, any subset.
  void ReadLimits(const DocNode& limits, const std::string& where, CardSpec& card) const {
    auto what = [&] { return "'limits' of " + where; };
    Try([&] { ExpectKind(limits, DocKind::kMap, what); });
    if (limits.kind != DocKind::kMap) return;
    uint32_t seen = 0;
    for (uint32_t i = 0; i + 1 < limits.size; i += 2) {
      const DocNode& key = doc_.child(limits, i);
      const DocNode& value = doc_.child(limits, i + 1);
      Try([&] {
        const std::string_view name = Scalar(key, [&] { return "each key of " + what(); });
        LimitKind kind;
        if (!LimitKindOf(name, &kind)) {
          Fail(key, "unknown key " + QuoteForMessage(name) + " in " + what() +
                        " (expected memory, cpu, files or processes)");
        }
        const uint32_t bit = 1u << static_cast<uint32_t>(kind);
        if ((seen & bit) != 0)
          Fail(key, "duplicate key " + QuoteForMessage(name) + " in " + what());
        seen |= bit;
        const std::string_view text =
            Scalar(value, [&] { return what() + ", " + QuoteForMessage(name); });
        if (Status s = SetLimit(card.mutable_limits(), kind, text); !s.ok()) {
          Fail(value, what() + ": " + s.message());
        }
      });
    }
  }

  void ReadCommand(const Field& run, const Field& builtin, const DocNode& node,
                   const std::string& where, CardSpec& card) const {
    if (!run.value && !builtin.value) Fail(node, where + " needs 'run' or 'builtin'");
    if (run.value && builtin.value) {
      auto place = [](const DocNode* n) { return std::pair(n->line, n->column); };
      const DocNode& later = place(run.key) > place(builtin.key) ? *run.key : *builtin.key;
      Fail(later, where + " has both 'run' and 'builtin'; use one");
    }
    if (run.value) {
      ReadRun(*run.value, where, card);
    } else {
      ReadBuiltin(*builtin.value, where, card);
    }
  }

  void ReadRun(const DocNode& run, const std::string& where, CardSpec& card) const {
    auto what = [&] { return "'run' of " + where; };
    if (run.kind == DocKind::kScalar) {
      card.shell = doc_.scalar(run);
      if (card.shell.empty()) Fail(run, what() + " must not be empty");
      return;
    }
    if (run.kind == DocKind::kSequence) {
      if (run.size == 0) Fail(run, what() + " must not be an empty list");
      std::vector<std::string>& argv = card.mutable_argv();
      argv.reserve(run.size);
      for (uint32_t i = 0; i < run.size; ++i) {
        argv.emplace_back(Scalar(doc_.child(run, i), [&] { return "each word of " + what(); }));
      }
      if (argv[0].empty()) Fail(doc_.child(run, 0), "the program in " + what() + " is empty");
      return;
    }
    if (run.kind == DocKind::kNull) Fail(run, what() + " must not be empty");
    Fail(run, what() + " must be a string (a shell line) or a list of strings (argv), not " +
                  KindName(run.kind));
  }

  void ReadBuiltin(const DocNode& builtin, const std::string& where, CardSpec& card) const {
    if (builtin.kind == DocKind::kScalar) {
      const std::string_view text = doc_.scalar(builtin);
      if (text == "noop") {
        card.builtin = BuiltinKind::kNoop;
        return;
      }
      if (text.starts_with("sleep ")) {
        card.builtin = BuiltinKind::kSleep;
        card.sleep =
            ReadDurationText(builtin, text.substr(6), [&] { return where + ", 'builtin' sleep"; });
        return;
      }
    } else if (builtin.kind == DocKind::kMap && builtin.size == 2) {
      const DocNode& key = doc_.child(builtin, 0);
      if (key.kind == DocKind::kScalar && doc_.scalar(key) == "sleep") {
        const DocNode& value = doc_.child(builtin, 1);
        card.builtin = BuiltinKind::kSleep;
        card.sleep = ReadDuration(value, [&] { return where + ", 'builtin' sleep"; });
        return;
      }
    }
    const std::string shown =
        builtin.kind == DocKind::kScalar ? QuoteForMessage(doc_.scalar(builtin)) : "value";
    Fail(builtin,
         "unknown builtin " + shown + " in " + where + " (expected 'noop' or {sleep: DURATION})");
  }

  template <typename What>
  Duration ReadDuration(const DocNode& node, const What& what) const {
    return ReadDurationText(node, Scalar(node, what), what);
  }

  template <typename What>
  Duration ReadDurationText(const DocNode& node, std::string_view text, const What& what) const {
    auto d = ParseDuration(text);
    if (!d.ok()) Fail(node, Describe(what) + ": " + d.message());
    return *d;
  }

  int ReadPriority(const DocNode& node) const {
    const std::string_view text = Scalar(node, "'priority'");
    std::string_view digits = text;
    const bool negative = !digits.empty() && digits.front() == '-';
    if (negative || (!digits.empty() && digits.front() == '+')) digits.remove_prefix(1);
    int value = 0;
    bool ok = !digits.empty() && digits.size() <= 4;
    for (char c : digits) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) value = value * 10 + (c - '0');
    }
    if (negative) value = -value;
    if (!ok || value < kMinPriority || value > kMaxPriority) {
      Fail(node, "'priority' must be a whole number from " + std::to_string(kMinPriority) + " to " +
                     std::to_string(kMaxPriority) + ", not " + QuoteForMessage(text));
    }
    return value;
  }

  int ReadRetries(const DocNode& node, const std::string& where) const {
    const std::string_view text = Scalar(node, [&] { return "'retries' of " + where; });
    int value = 0;
    bool ok = !text.empty() && text.size() <= 3;
    for (size_t i = 0; ok && i < text.size(); ++i) {
      ok = text[i] >= '0' && text[i] <= '9';
      value = value * 10 + (text[i] - '0');
    }
    if (!ok || value > kMaxRetries) {
      Fail(node, "'retries' of " + where + " must be a whole number from 0 to " +
                     std::to_string(kMaxRetries) + ", not " + QuoteForMessage(text));
    }
    return value;
  }

  // Splits "STACK.CARD" (ids contain no '.'); false if malformed.
  static bool SplitRef(std::string_view ref, PendingRef& out) {
    const size_t dot = ref.find('.');
    if (dot == std::string_view::npos) return false;
    out.stack = ref.substr(0, dot);
    out.card = ref.substr(dot + 1);
    return IsValidId(out.stack) && IsValidId(out.card);
  }

  void ReadAfter(const DocNode& after, CardRef self, const std::string& where, CardSpec& card) {
    auto what = [&] { return "'after' of " + where; };
    ExpectKind(after, DocKind::kSequence, what);
    card.after.resize(after.size);
    for (uint32_t i = 0; i < after.size; ++i) {
      const DocNode& item = doc_.child(after, i);
      Try([&] {
        PendingRef ref{self, i, false, &item,
                       Scalar(item, [&] { return "each entry of " + what(); })};
        if (!SplitRef(ref.text, ref)) {
          Fail(item, "bad reference " + QuoteForMessage(ref.text) + " in " + what() +
                         " (expected STACK.CARD)");
        }
        refs_.push_back(ref);
      });
    }
  }

  // Each entry is STACK.CARD:PATH (copied to PATH) or {from: STACK.CARD:PATH, dest: DEST}
  // (copied to DEST; what a fan-in over a matrix stack expands to, one per instance).
  void ReadInputs(const DocNode& inputs, CardRef self, const std::string& where, CardSpec& card) {
    auto what = [&] { return "'inputs' of " + where; };
    ExpectKind(inputs, DocKind::kSequence, what);
    card.inputs.resize(inputs.size);
    std::unordered_set<std::string_view> dests;
    for (uint32_t i = 0; i < inputs.size; ++i) {
      const DocNode& item = doc_.child(inputs, i);
      Try([&] {
        const DocNode* from = &item;
        const DocNode* dest_node = nullptr;
        if (item.kind == DocKind::kMap) {
          static constexpr std::array<std::string_view, 2> kInputKeys = {"from", "dest"};
          const auto fields = ReadFields(item, kInputKeys, "an entry of " + what());
          if (!fields[0].value) Fail(item, "an entry of " + what() + " needs 'from'");
          from = fields[0].value;
          dest_node = fields[1].value;
        }
        PendingRef ref{self, i, true, &item,
                       Scalar(*from, [&] { return "each entry of " + what(); })};
        const size_t colon = ref.text.find(':');
        if (colon == std::string_view::npos || !SplitRef(ref.text.substr(0, colon), ref)) {
          Fail(*from, "bad input " + QuoteForMessage(ref.text) + " in " + what() +
                          " (expected STACK.CARD:PATH)");
        }
        const std::string_view path = ref.text.substr(colon + 1);
        if (const char* problem = WorkspacePathProblem(path)) {
          Fail(*from, "bad input " + QuoteForMessage(ref.text) + " in " + what() + ": the path " +
                          problem);
        }
        const std::string_view dest =
            dest_node ? Scalar(*dest_node, [&] { return "'dest' of an entry of " + what(); })
                      : path;
        if (const char* problem = dest_node ? WorkspacePathProblem(dest) : nullptr) {
          Fail(*dest_node,
               "bad 'dest' " + QuoteForMessage(dest) + " in " + what() + ": the path " + problem);
        }
        if (inputs.size > 1 && !dests.insert(dest).second) {
          Fail(item, "input " + QuoteForMessage(ref.text) + " in " + what() + " writes " +
                         QuoteForMessage(dest) + ", as an earlier input does");
        }
        card.inputs[i].path = path;
        card.inputs[i].dest = dest;
        refs_.push_back(ref);
      });
    }
  }

  void ReadOutputs(const DocNode& outputs, const std::string& where, CardSpec& card) const {
    auto what = [&] { return "'outputs' of " + where; };
    ExpectKind(outputs, DocKind::kSequence, what);
    card.outputs.reserve(outputs.size);
    std::unordered_set<std::string_view> seen;
    for (uint32_t i = 0; i < outputs.size; ++i) {
      const DocNode& item = doc_.child(outputs, i);
      Try([&] {
        const std::string_view path = Scalar(item, [&] { return "each entry of " + what(); });
        if (const char* problem = WorkspacePathProblem(path)) {
          Fail(item,
               "bad output " + QuoteForMessage(path) + " in " + what() + ": the path " + problem);
        }
        if (outputs.size > 1 && !seen.insert(path).second) {
          Fail(item, "duplicate output " + QuoteForMessage(path) + " in " + what());
        }
        card.outputs.emplace_back(path);
      });
    }
  }

  CardSpec ReadCombine(const DocNode& node) const {
    ExpectKind(node, DocKind::kMap, "'combine'");
    const auto fields = ReadFields(node, kCardKeys, "combine", kCombineKeys);
    CardSpec card;
    card.id = kCombineName;
    if (const DocNode* id = fields[kId].value) Try([&] { card.id = Id(*id, "combine card id"); });
    card.mark = node.mark();
    ReadCommonFields(fields, node, "combine", card);
    return card;
  }

  void ResolveReferences() {
    for (const PendingRef& ref : refs_) {
      auto what = [&] {
        return std::string(ref.is_input ? "input " : "after ") + QuoteForMessage(ref.text) +
               " of card " + QuoteForMessage(job_.card_name(ref.consumer));
      };
      const uint32_t stack = stack_index_.Find(ref.stack);
      if (stack == SpecIdIndex::kAbsent) {
        Record(*ref.node, what() + " refers to unknown stack " + QuoteForMessage(ref.stack));
        continue;
      }
      const uint32_t card = card_index_[stack].Find(ref.card);
      if (card == SpecIdIndex::kAbsent) {
        // In a stack with a skipped card, the card may be that one: its error is reported.
        if (stack_complete_[stack]) {
          Record(*ref.node, what() + " refers to unknown card " + QuoteForMessage(ref.card) +
                                " in stack " + QuoteForMessage(ref.stack));
        }
        continue;
      }
      const CardRef from{stack, card};
      CardSpec& consumer = job_.stacks[ref.consumer.stack].cards[ref.consumer.card];
      if (!ref.is_input) {
        consumer.after[ref.index] = from;
        continue;
      }
      InputSpec& input = consumer.inputs[ref.index];
      if (!IsDeclaredOutput(from, input.path)) {
        Record(*ref.node, what() + ": card " + QuoteForMessage(job_.card_name(from)) +
                              " does not declare output " + QuoteForMessage(input.path));
        continue;
      }
      input.from = from;
    }
  }

  bool IsDeclaredOutput(CardRef card, std::string_view path) {
    if (stack_offsets_.empty()) IndexOutputs();
    return outputs_.contains(ProducedFile{stack_offsets_[card.stack] + card.card, path});
  }

  void IndexOutputs() {
    size_t offset = 0;
    for (const StackSpec& stack : job_.stacks) {
      stack_offsets_.push_back(offset);
      for (const CardSpec& card : stack.cards) {
        for (const std::string& path : card.outputs) outputs_.insert(ProducedFile{offset, path});
        ++offset;
      }
    }
  }

  // The combine card waits for the last card of every stack and receives every declared output.
  void AddCombineStack(CardSpec card, const DocNode& key) {
    for (uint32_t s = 0; s < job_.stacks.size(); ++s) {
      const StackSpec& stack = job_.stacks[s];
      card.after.push_back(CardRef{s, static_cast<uint32_t>(stack.cards.size() - 1)});
      for (uint32_t c = 0; c < stack.cards.size(); ++c) {
        const std::string prefix = "results/" + stack.id + "." + stack.cards[c].id + "/";
        for (const std::string& path : stack.cards[c].outputs) {
          card.inputs.push_back(InputSpec{CardRef{s, c}, path, prefix + path});
        }
      }
    }
    StackSpec& stack = job_.stacks.emplace_back();
    stack.id = kCombineName;
    stack.is_combine = true;
    stack.mark = key.mark();
    stack.cards.push_back(std::move(card));
  }

  const DocTree& doc_;
  JobSpec job_;
  SpecIdIndex stack_index_;              // ids are views into doc_
  std::vector<SpecIdIndex> card_index_;  // for each stack
  std::vector<bool> stack_complete_;     // for each stack: every card of its list was read
  std::vector<PendingRef> refs_;
  std::vector<PendingRef> fanout_refs_;  // `matrix: {from: ...}` of run-time matrix stacks
  std::vector<size_t> stack_offsets_;    // global card index of each stack's first card
  std::unordered_set<ProducedFile, ProducedFileHash> outputs_;
  CacheSetting job_cache_;
  CacheSetting stack_cache_;      // of the stack being read
  mutable SpecErrorList errors_;  // recorded by the const readers too
};

}  // namespace

JobSpec ReadJobSpec(const DocTree& doc, size_t max_errors) {
  return SchemaReader(doc, max_errors).Read();
}

const SpecKeys& AcceptedSpecKeys() {
  static const SpecKeys keys = [] {
    SpecKeys k;
    k.job.assign(kJobKeys.begin(), kJobKeys.end());
    k.stack.assign(kStackKeys.begin(), kStackKeys.end());
    // Keys that expansion (expand.h) consumes before the schema reads the document.
    k.job.insert(k.job.end(), {"templates", "include"});
    k.stack.insert(k.stack.end(), {"uses", "with"});
    k.template_keys = {"params", "node",      "labels", "cards",
                       "matrix", "resources", "cache",  "cache_version"};
    k.card.assign(kCardKeys.begin(), kCardKeys.end());
    for (size_t i = 0; i < kCardKeys.size(); ++i) {
      if (kCombineKeys & (1u << i)) k.combine.push_back(kCardKeys[i]);
    }
    return k;
  }();
  return keys;
}

}  // namespace hollerith
