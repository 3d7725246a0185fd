#include "common/spec/fanout.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/spec/cycles.h"
#include "common/spec/document.h"
#include "common/spec/json.h"
#include "common/spec/matrix.h"
#include "common/spec/substitution.h"
#include "common/spec/workspace_path.h"

namespace hollerith {
namespace {

bool RefersTo(const CardSpec& card, uint32_t stack) {
  for (CardRef r : card.after) {
    if (r.stack == stack) return true;
  }
  for (const InputSpec& in : card.inputs) {
    if (in.from.stack == stack) return true;
  }
  return false;
}

// One item of the list: its keys and values, as `${{ matrix.KEY }}` sees them.
class ItemScope : public SubstitutionScope {
 public:
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  size_t number = 0;  // 1-based, for messages

  bool Find(std::string_view ns, std::string_view key, std::string_view* value,
            std::string* why) const override {
    if (ns == "matrix") {
      for (const auto& [k, v] : pairs) {
        if (k == key) {
          *value = v;
          return true;
        }
      }
    }
    std::string keys;
    for (const auto& [k, v] : pairs) keys.append(keys.empty() ? "" : ", ").append(k);
    *why = "item " + std::to_string(number) + " of the list has no key " + QuoteForMessage(key) +
           " (keys: " + keys + ")";
    return false;
  }
};

class FanOutExpander {
 public:
  FanOutExpander(const JobSpec& job, uint32_t stack, const SpecLimits& limits)
      : job_(job), stack_(stack), limits_(limits), template_(job.stacks[stack]) {}

  std::shared_ptr<const JobSpec> Run(std::string_view list) {
    const std::string& source_name = job_.card_name(template_.fanout->source);
    const std::string file = source_name + ":" + template_.fanout->path;
    if (list.size() > kMaxFanOutBytes) {
      Fail(file + " is " + std::to_string(list.size()) + " bytes, more than the limit of " +
           std::to_string(kMaxFanOutBytes));
    }
    DocTree doc;
    try {
      SpecLimits json_limits = limits_;
      json_limits.max_file_bytes = kMaxFanOutBytes;
      doc = ReadJsonDocument(list, json_limits);
    } catch (const SpecError& e) {
      Fail(file + ":" + std::to_string(e.mark.line) + ":" + std::to_string(e.mark.column) +
           ": not a JSON list: " + e.what());
    }
    const DocNode& root = doc.root();
    if (root.kind != DocKind::kSequence) Fail(file + " holds no JSON list");
    const size_t items = root.size;
    const uint64_t cards = job_.card_count() + items * template_.cards.size();
    if (items > kMaxFanOutItems || cards > limits_.max_cards) {
      Fail(file + " lists " + std::to_string(items) + " items; the limit is " +
           std::to_string(std::min<uint64_t>(
               kMaxFanOutItems,
               (limits_.max_cards - std::min<uint64_t>(limits_.max_cards, job_.card_count())) /
                   template_.cards.size())) +
           " (" + std::to_string(kMaxFanOutItems) + " items, " + std::to_string(limits_.max_cards) +
           " cards in a job)");
    }
    auto out = std::make_shared<JobSpec>(job_);
    if (out->written_stacks == 0) out->written_stacks = static_cast<uint32_t>(job_.stacks.size());
    const uint32_t first = static_cast<uint32_t>(out->stacks.size());
    out->stacks.reserve(out->stacks.size() + items);
    std::unordered_map<std::string, size_t> ids;  // instance id -> item number
    std::unordered_set<std::string_view> taken;
    for (const StackSpec& s : job_.stacks) taken.insert(s.id);
    for (uint32_t i = 0; i < items; ++i) {
      ItemScope scope = ReadItem(doc, doc.child(root, i), i + 1);
      std::string raw = template_.id;
      for (const auto& [k, v] : scope.pairs) raw.append("-").append(v);
      std::string id = MatrixStackId(raw);
      if (auto [it, added] = ids.emplace(id, i + 1); !added) {
        Fail("items " + std::to_string(it->second) + " and " + std::to_string(i + 1) + " of " +
             file + " make the same stack id " + QuoteForMessage(id));
      }
      if (taken.contains(id)) {
        Fail("item " + std::to_string(i + 1) + " of " + file + " makes stack id " +
             QuoteForMessage(id) + ", which the job has already");
      }
      out->stacks.push_back(Instance(std::move(id), scope, first + i));
    }
    auto fanout = std::make_shared<FanOutSpec>(*template_.fanout);
    fanout->expanded = true;
    fanout->first = first;
    fanout->count = static_cast<uint32_t>(items);
    out->stacks[stack_].fanout = std::move(fanout);
    RewriteConsumers(*out, first, static_cast<uint32_t>(items));
    return out;
  }

 private:
  [[noreturn]] void Fail(const std::string& why) const {
    throw SpecError(template_.fanout->mark, why);
  }

  ItemScope ReadItem(const DocTree& doc, const DocNode& item, size_t number) const {
    ItemScope scope;
    scope.number = number;
    auto bad = [&](const char* what) {
      Fail("item " + std::to_string(number) + " of the list is " + what +
           " (items are scalars, or objects whose values are scalars)");
    };
    if (item.kind == DocKind::kScalar) {
      scope.pairs.emplace_back("item", doc.scalar(item));
    } else if (item.kind == DocKind::kMap) {
      for (uint32_t f = 0; f < item.size; f += 2) {
        const DocNode& value = doc.child(item, f + 1);
        if (value.kind != DocKind::kScalar) bad("an object with a value that is not a scalar");
        const std::string_view key = doc.scalar(doc.child(item, f));
        if (!IsValidId(key)) {
          Fail("item " + std::to_string(number) + " of the list has key " + QuoteForMessage(key) +
               ", which `${{ matrix.KEY }}` cannot name");
        }
        scope.pairs.emplace_back(key, doc.scalar(value));
      }
      if (scope.pairs.empty()) bad("an empty object");
    } else {
      bad(item.kind == DocKind::kNull ? "null" : "a list");
    }
    return scope;
  }

  std::string Text(const std::string& text, SourceMark mark, const ItemScope& scope) const {
    if (!HasSubstitution(text)) return text;
    std::string out;
    Substitute(text, mark, scope, out);
    return out;
  }

  void CheckPath(const std::string& path, const CardSpec& card, const char* what,
                 size_t item) const {
    if (const char* problem = WorkspacePathProblem(path)) {
      throw SpecError(card.mark, "item " + std::to_string(item) + " makes " + what + " " +
                                     QuoteForMessage(path) + " of card " +
                                     QuoteForMessage(card.id) + ", and the path " + problem);
    }
  }

  StackSpec Instance(std::string id, const ItemScope& scope, uint32_t index) const {
    StackSpec s = template_;
    s.id = std::move(id);
    s.fanout = nullptr;
    s.instance_of = stack_;
    s.node = Text(s.node, s.mark, scope);
    for (auto& [k, v] : s.labels) v = Text(v, s.mark, scope);
    for (CardSpec& card : s.cards) {
      card.shell = Text(card.shell, card.mark, scope);
      if (card.rare.set()) {  // most cards have no argv or env: nothing to make
        for (std::string& arg : card.mutable_argv()) arg = Text(arg, card.mark, scope);
        for (auto& [k, v] : card.mutable_env()) v = Text(v, card.mark, scope);
      }
      std::unordered_set<std::string_view> outputs;
      for (std::string& path : card.outputs) {
        path = Text(path, card.mark, scope);
        CheckPath(path, card, "output", scope.number);
        if (!outputs.insert(path).second) {
          throw SpecError(card.mark, "item " + std::to_string(scope.number) + " makes output " +
                                         QuoteForMessage(path) + " of card " +
                                         QuoteForMessage(card.id) + " twice");
        }
      }
      for (InputSpec& in : card.inputs) {
        in.dest = Text(in.dest, card.mark, scope);
        CheckPath(in.dest, card, "input destination", scope.number);
        if (in.from.stack == stack_) in.from.stack = index;
      }
      for (CardRef& r : card.after) {
        if (r.stack == stack_) r.stack = index;
      }
    }
    if (!template_.node.empty() && s.node.empty()) {
      throw SpecError(s.mark, "item " + std::to_string(scope.number) + " makes an empty 'node'");
    }
    return s;
  }

  // Every reference to a template card now names that card of every instance.
  void RewriteConsumers(JobSpec& out, uint32_t first, uint32_t count) const {
    for (uint32_t s = 0; s < first; ++s) {
      if (s == stack_) continue;
      StackSpec& consumer = out.stacks[s];
      for (CardSpec& card : consumer.cards) {
        if (!RefersTo(card, stack_)) continue;
        std::vector<CardRef> after;
        for (CardRef r : card.after) {
          if (r.stack != stack_) {
            after.push_back(r);
            continue;
          }
          for (uint32_t i = 0; i < count; ++i) after.push_back({first + i, r.card});
        }
        card.after = std::move(after);
        std::vector<InputSpec> inputs;
        for (InputSpec& in : card.inputs) {
          if (in.from.stack != stack_) {
            inputs.push_back(std::move(in));
            continue;
          }
          const auto& written = template_.cards[in.from.card].outputs;
          const size_t k = static_cast<size_t>(std::find(written.begin(), written.end(), in.path) -
                                               written.begin());
          for (uint32_t i = 0; i < count; ++i) {
            const StackSpec& instance = out.stacks[first + i];
            const CardSpec& producer = instance.cards[in.from.card];
            const std::string& path = k < written.size() ? producer.outputs[k] : in.path;
            std::string dest = consumer.is_combine
                                   ? "results/" + instance.id + "." + producer.id + "/" + path
                               : in.dest == in.path ? instance.id + "/" + path
                                                    : instance.id + "/" + in.dest;
            inputs.push_back(InputSpec{{first + i, in.from.card}, path, std::move(dest)});
          }
        }
        card.inputs = std::move(inputs);
      }
    }
  }

  const JobSpec& job_;
  const uint32_t stack_;
  const SpecLimits& limits_;
  const StackSpec& template_;
};

}  // namespace

void CheckFanOuts(const JobSpec& job) {
  // The job as it will wait: every template card and every stack that refers to a template
  // after the template's source card.
  JobSpec waits = job;
  for (uint32_t t = 0; t < job.stacks.size(); ++t) {
    if (!job.stacks[t].is_template()) continue;
    const CardRef source = job.stacks[t].fanout->source;
    for (const CardSpec& card : job.stacks[t].cards) {
      for (CardRef r : CrossStackDependencies(card, t)) {
        if (job.stacks[r.stack].is_template()) {
          throw SpecError(card.mark,
                          "card " + QuoteForMessage(job.stacks[t].id + "." + card.id) +
                              " of a run-time matrix stack waits on " +
                              QuoteForMessage(job.card_name(r)) +
                              ", a card of another run-time matrix stack (not supported)");
        }
      }
    }
    waits.stacks[t].cards[0].after.push_back(source);
    for (uint32_t s = 0; s < job.stacks.size(); ++s) {
      if (s == t) continue;
      const auto& cards = job.stacks[s].cards;
      if (std::any_of(cards.begin(), cards.end(),
                      [&](const CardSpec& c) { return RefersTo(c, t); })) {
        waits.stacks[s].cards[0].after.push_back(source);
      }
    }
  }
  const std::vector<CardRef> cycle = FindDependencyCycle(waits);
  if (cycle.empty()) return;
  for (uint32_t t = 0; t < job.stacks.size(); ++t) {
    if (!job.stacks[t].is_template()) continue;
    const CardRef source = job.stacks[t].fanout->source;
    if (std::find(cycle.begin(), cycle.end(), source) == cycle.end()) continue;
    throw SpecError(job.stacks[t].fanout->mark,
                    "a run-time matrix can never be made: its list must be written before the "
                    "stacks that wait for its instances start, and " +
                        CyclePath(job, cycle) + " closes a cycle");
  }
  throw SpecError(job.card(cycle.front()).mark, "dependency cycle: " + CyclePath(job, cycle));
}

Result<std::string> ReadFanOutList(const JobSpec& job, uint32_t stack, const std::string& file) {
  const FanOutSpec& fanout = *job.stacks[stack].fanout;
  if (file.empty()) {
    return Status::Error("card " + job.card_name(fanout.source) + " published no " + fanout.path);
  }
  return ReadSpecFile(file, SpecLimits{.max_file_bytes = kMaxFanOutBytes});
}

Result<std::shared_ptr<const JobSpec>> ExpandFanOut(const JobSpec& job, uint32_t stack,
                                                    std::string_view list,
                                                    const SpecLimits& limits) {
  if (stack >= job.stacks.size() || !job.stacks[stack].is_template() ||
      job.stacks[stack].fanout->expanded) {
    return Status::InvalidArgument("stack " + std::to_string(stack) +
                                   " is no run-time matrix waiting for its list");
  }
  try {
    return FanOutExpander(job, stack, limits).Run(list);
  } catch (const SpecError& e) {
    return Status::InvalidArgument(job.Where(e.mark) + ": run-time matrix of stack " +
                                   QuoteForMessage(job.stacks[stack].id) + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return Status::Error("out of memory making the run-time matrix of stack " +
                         QuoteForMessage(job.stacks[stack].id));
  }
}

}  // namespace hollerith
