#include "common/spec/expand.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/spec/id_index.h"
#include "common/spec/matrix.h"
#include "common/spec/quantities.h"
#include "common/spec/substitution.h"
#include "common/spec/templates.h"

namespace hollerith {
namespace {

// What a value in an expanded document costs, as ExpandDocument counts it against the file limit.
constexpr size_t kBytesPerNode = 6;

std::string_view KeyText(const DocTree& doc, const DocNode& key) {
  return key.kind == DocKind::kScalar ? doc.scalar(key) : std::string_view();
}

// What `${{ ... }}` can name at one place: the stack's matrix combination and template
// parameters, if it has them.
class Scope : public SubstitutionScope {
 public:
  std::string_view stack_id;  // empty: the combine card
  const StackMatrix* matrix = nullptr;
  size_t combination = 0;
  const StackTemplate* from_template = nullptr;
  const std::vector<std::string_view>* params = nullptr;
  bool in_with = false;  // a value of `with`: parameters are being defined
  // A run-time matrix stack: `${{ matrix.KEY }}` (and `$${{`) stay as written, for ExpandFanOut.
  bool run_time_matrix = false;

  bool Find(std::string_view ns, std::string_view key, std::string_view* value,
            std::string* why) const override {
    const std::string who =
        stack_id.empty() ? std::string("the combine card") : "stack " + QuoteForMessage(stack_id);
    if (ns == "matrix" && run_time_matrix) {
      kept_.assign("${{ matrix.").append(key).append(" }}");
      *value = kept_;
      return true;
    }
    if (ns == "matrix") {
      if (matrix) return matrix->Find(combination, key, value, why);
      *why = who + " has no matrix";
      return false;
    }
    if (in_with) {
      *why = "a parameter's value cannot use parameters";
      return false;
    }
    if (!from_template) {
      *why = who + " uses no template";
      return false;
    }
    for (size_t p = 0; p < from_template->params.size(); ++p) {
      if (from_template->params[p].name == key) {
        *value = (*params)[p];
        return true;
      }
    }
    std::string names;
    for (const auto& p : from_template->params)
      names.append(names.empty() ? "" : ", ").append(p.name);
    *why = "unknown parameter " + QuoteForMessage(key) + " of template " +
           QuoteForMessage(from_template->name) +
           " (parameters: " + (names.empty() ? "none" : names) + ")";
    return false;
  }

 private:
  mutable std::string kept_;  // what Find returned for a run-time matrix key
};

// One entry of `stacks`, read and checked before anything is written.
struct StackPlan {
  const DocNode* key = nullptr;
  const DocNode* body = nullptr;
  bool is_map = false;  // else it is copied for the schema to report
  StackBody resolved;
  const DocNode* matrix_key = nullptr;
  const DocNode* matrix = nullptr;
  bool run_time_matrix = false;  // `matrix: {from: ...}`: left for the schema and ExpandFanOut
  std::optional<StackMatrix> combinations;
  uint64_t cards = 0;
  std::vector<std::string_view> card_ids;  // as written, for checking fan-in references
  bool card_ids_known = true;              // false if an id is not a plain string
};

class Expander {
 public:
  Expander(const DocTree& doc, const SpecLimits& limits, size_t max_errors)
      : doc_(doc), limits_(limits), errors_(max_errors) {}

  DocTree Run() {
    const DocNode& root = doc_.root();
    const DocNode* stacks = nullptr;
    for (uint32_t i = 0; i < root.size; i += 2) {
      const std::string_view name = KeyText(doc_, doc_.child(root, i));
      const DocNode& value = doc_.child(root, i + 1);
      if (name == "templates" && !templates_) {
        templates_failed_ = !Try([&] { templates_.emplace(doc_, value); });
      } else if (name == "stacks" && value.kind == DocKind::kMap && !stacks) {
        stacks = &value;
      }
    }
    if (!templates_) templates_.emplace();
    if (stacks) Plan(*stacks);
    if (!errors_.empty()) throw SpecErrors(std::move(errors_));

    builder_.emplace(limits_, EstimateSize(root));
    builder_->StartMap(root.mark());
    for (uint32_t i = 0; i < root.size; i += 2) {
      const DocNode& key = doc_.child(root, i);
      const DocNode& value = doc_.child(root, i + 1);
      const std::string_view name = KeyText(doc_, key);
      if (name == "templates") continue;
      Copy(key);
      if (&value == stacks) {
        EmitStacks(value);
      } else if (name == "combine") {
        EmitValue(value, Scope{});
      } else {
        Copy(value);
      }
    }
    builder_->End();
    if (!errors_.empty()) throw SpecErrors(std::move(errors_));
    return builder_->Finish();
  }

 private:
  template <typename Step>
  bool Try(const Step& step) {
    return errors_.Try(step);
  }

  void Plan(const DocNode& stacks) {
    plans_.reserve(stacks.size / 2);
    uint64_t plain_cards = 0;
    for (uint32_t i = 0; i < stacks.size; i += 2) {
      StackPlan& plan = plans_.emplace_back();
      plan.key = &doc_.child(stacks, i);
      plan.body = &doc_.child(stacks, i + 1);
      plan.is_map = plan.body->kind == DocKind::kMap;
      if (!plan.is_map) continue;
      // With its templates unread, a stack using one is not checked: its error is reported.
      if (templates_failed_ && HasKey(*plan.body, "uses")) continue;
      Try([&] { PlanStack(plan); });
      if (!plan.matrix || plan.run_time_matrix) plain_cards += plan.cards;
    }
    // The matrix bomb: each matrix may make what the job's limit leaves it, in file order.
    const uint64_t limit = limits_.max_cards;
    uint64_t room = plain_cards >= limit ? 0 : limit - plain_cards;
    for (size_t p = 0; p < plans_.size(); ++p) {
      StackPlan& plan = plans_[p];
      if (!plan.matrix || plan.run_time_matrix) continue;
      const std::string_view id = KeyText(doc_, *plan.key);
      const bool ok = Try([&] {
        plan.combinations.emplace(doc_, *plan.matrix, plan.matrix_key->mark(), id, plan.cards,
                                  StackMatrix::Budget{room, limit});
      });
      if (!ok) continue;
      room -= plan.combinations->size() * plan.cards;
      // A repeated stack id is the schema's to report; references go to the first.
      if (matrix_stacks_.Add(id) == SpecIdIndex::kAbsent) plan_of_matrix_stack_.push_back(p);
    }
  }

  bool HasKey(const DocNode& map, std::string_view key) const {
    for (uint32_t i = 0; i < map.size; i += 2) {
      if (KeyText(doc_, doc_.child(map, i)) == key) return true;
    }
    return false;
  }

  void PlanStack(StackPlan& plan) {
    const std::string_view id = KeyText(doc_, *plan.key);
    plan.resolved = ResolveStackBody(doc_, *templates_, id, *plan.body);
    for (const auto& [key, value] : plan.resolved.fields) {
      const std::string_view name = KeyText(doc_, *key);
      if (name == "matrix") {
        plan.matrix_key = key;
        plan.matrix = value;
        plan.run_time_matrix = value->kind == DocKind::kMap && HasKey(*value, "from");
      } else if (name == "cards" && value->kind == DocKind::kSequence) {
        plan.cards = value->size;
        for (uint32_t c = 0; c < value->size; ++c) {
          const DocNode& card = doc_.child(*value, c);
          const DocNode* card_id = nullptr;
          for (uint32_t f = 0; card.kind == DocKind::kMap && f < card.size; f += 2) {
            if (KeyText(doc_, doc_.child(card, f)) == "id") card_id = &doc_.child(card, f + 1);
          }
          if (!card_id || card_id->kind != DocKind::kScalar ||
              HasSubstitution(doc_.scalar(*card_id))) {
            plan.card_ids_known = false;
          } else {
            plan.card_ids.push_back(doc_.scalar(*card_id));
          }
        }
      }
    }
  }

  // Nodes and scalar bytes of the subtree at `n`.
  void Count(const DocNode& n, size_t& nodes, size_t& bytes) const {
    ++nodes;
    if (n.kind == DocKind::kScalar) bytes += n.size;
    if (n.kind != DocKind::kMap && n.kind != DocKind::kSequence) return;
    for (uint32_t i = 0; i < n.size; ++i) Count(doc_.child(n, i), nodes, bytes);
  }

  DocTreeBuilder::Reserve EstimateSize(const DocNode& root) const {
    size_t nodes = 0;
    size_t bytes = 0;
    for (uint32_t i = 0; i < root.size; i += 2) {
      if (KeyText(doc_, doc_.child(root, i)) != "stacks")
        Count(doc_.child(root, i + 1), nodes, bytes);
    }
    for (const StackPlan& plan : plans_) {
      size_t plan_nodes = 2;
      size_t plan_bytes = plan.key->size;
      if (plan.is_map) {
        for (const auto& [key, value] : plan.resolved.fields) {
          Count(*key, plan_nodes, plan_bytes);
          Count(*value, plan_nodes, plan_bytes);
        }
      }
      const size_t instances = plan.combinations ? plan.combinations->size() : 1;
      nodes += plan_nodes * instances;
      bytes += plan_bytes * instances;
    }
    // Capped: the estimate is for reserving, and the limit is checked as the tree grows.
    const size_t cap = limits_.max_file_bytes / kBytesPerNode;
    return {std::min(nodes + 8, cap), std::min(bytes, limits_.max_file_bytes)};
  }

  void EmitStacks(const DocNode& stacks) {
    builder_->StartMap(stacks.mark());
    for (const StackPlan& plan : plans_) {
      if (!plan.is_map) {
        Copy(*plan.key);
        Copy(*plan.body);
        continue;
      }
      const size_t instances = plan.combinations ? plan.combinations->size() : 1;
      for (size_t c = 0; c < instances; ++c) {
        const size_t errors_before = errors_.count();
        EmitInstance(plan, c);
        if (errors_.count() != errors_before) break;  // the same error in every instance
        if (builder_->node_count() * kBytesPerNode + builder_->text_bytes() >
            limits_.max_file_bytes) {
          throw SpecError(plan.key->mark(), "the expanded spec would be larger than the limit of " +
                                                std::to_string(limits_.max_file_bytes) +
                                                " bytes of a spec file");
        }
      }
    }
    builder_->End();
  }

  void EmitInstance(const StackPlan& plan, size_t combination) {
    Scope scope;
    scope.stack_id = KeyText(doc_, *plan.key);
    if (plan.combinations) {
      scope.matrix = &*plan.combinations;
      scope.combination = combination;
    }
    scope.run_time_matrix = plan.run_time_matrix;
    const StackBody& body = plan.resolved;
    std::vector<std::string_view> params = body.param_values;
    std::vector<std::string> param_text;  // values of `with` that use the matrix
    if (body.from_template) {
      Scope with_scope = scope;
      with_scope.in_with = true;
      param_text.resize(params.size());
      for (size_t p = 0; p < params.size(); ++p) {
        if (!HasSubstitution(params[p])) continue;
        if (!Try([&] { Substitute(params[p], body.param_marks[p], with_scope, param_text[p]); })) {
          return;
        }
        params[p] = param_text[p];
      }
      scope.from_template = body.from_template;
      scope.params = &params;
    }
    builder_->Scalar(plan.key->mark(),
                     plan.combinations ? plan.combinations->id(combination) : scope.stack_id);
    builder_->StartMap(plan.body->mark());
    for (const auto& [key, value] : body.fields) {
      if (key == plan.matrix_key && !plan.run_time_matrix) continue;
      Copy(*key);
      if (KeyText(doc_, *key) == "cards") {
        EmitCards(*value, scope);
      } else {
        EmitValue(*value, scope);
      }
    }
    builder_->End();
  }

  void EmitCards(const DocNode& cards, const Scope& scope) {
    if (cards.kind != DocKind::kSequence) return EmitValue(cards, scope);
    builder_->StartSequence(cards.mark());
    for (uint32_t c = 0; c < cards.size; ++c) {
      const DocNode& card = doc_.child(cards, c);
      if (card.kind != DocKind::kMap) {
        EmitValue(card, scope);
        continue;
      }
      builder_->StartMap(card.mark());
      for (uint32_t f = 0; f < card.size; f += 2) {
        const DocNode& key = doc_.child(card, f);
        const DocNode& value = doc_.child(card, f + 1);
        const std::string_view name = KeyText(doc_, key);
        Copy(key);
        if ((name == "after" || name == "inputs") && value.kind == DocKind::kSequence) {
          EmitReferences(value, scope, name == "inputs");
        } else {
          EmitValue(value, scope);
        }
      }
      builder_->End();
    }
    builder_->End();
  }

  // `after` or `inputs` entries; one naming a matrix stack by its base name becomes one entry
  // for each of its instances.
  void EmitReferences(const DocNode& list, const Scope& scope, bool inputs) {
    builder_->StartSequence(list.mark());
    for (uint32_t i = 0; i < list.size; ++i) {
      const DocNode& item = doc_.child(list, i);
      if (item.kind != DocKind::kScalar) {
        EmitValue(item, scope);
        continue;
      }
      std::string_view text;
      if (!Try([&] { text = Substituted(item, scope); })) continue;
      const size_t dot = text.find('.');
      const uint32_t m = dot == std::string_view::npos ? SpecIdIndex::kAbsent
                                                       : matrix_stacks_.Find(text.substr(0, dot));
      const size_t colon = inputs ? text.find(':', dot) : std::string_view::npos;
      if (m == SpecIdIndex::kAbsent || (inputs && colon == std::string_view::npos)) {
        builder_->Scalar(item.mark(), text);
        continue;
      }
      const StackPlan& producer = plans_[plan_of_matrix_stack_[m]];
      const std::string stack(text.substr(0, dot));
      const std::string card(inputs ? text.substr(dot + 1, colon - dot - 1) : text.substr(dot + 1));
      const std::string path(inputs ? text.substr(colon + 1) : std::string_view());
      if (producer.card_ids_known && std::find(producer.card_ids.begin(), producer.card_ids.end(),
                                               card) == producer.card_ids.end()) {
        errors_.Add(item.mark(), std::string(inputs ? "input " : "after ") +
                                     QuoteForMessage(std::string(text)) +
                                     " refers to unknown card " + QuoteForMessage(card) +
                                     " in matrix stack " + QuoteForMessage(stack));
        continue;
      }
      const StackMatrix& instances = *producer.combinations;
      for (size_t c = 0; c < instances.size(); ++c) {
        ref_.assign(instances.id(c)).append(".").append(card);
        if (!inputs) {
          builder_->Scalar(item.mark(), ref_);
          continue;
        }
        ref_.append(":").append(path);
        builder_->StartMap(item.mark());
        builder_->Scalar(item.mark(), "from");
        builder_->Scalar(item.mark(), ref_);
        builder_->Scalar(item.mark(), "dest");
        ref_.assign(instances.id(c)).append("/").append(path);
        builder_->Scalar(item.mark(), ref_);
        builder_->End();
      }
    }
    builder_->End();
  }

  // The text of scalar `n` with its substitutions made (a view valid until the next call).
  std::string_view Substituted(const DocNode& n, const Scope& scope) {
    const std::string_view text = doc_.scalar(n);
    if (!HasSubstitution(text)) return text;
    text_.clear();
    Substitute(text, n.mark(), scope, text_, /*keep_escapes=*/scope.run_time_matrix);
    return text_;
  }

  void EmitValue(const DocNode& n, const Scope& scope) {
    switch (n.kind) {
      case DocKind::kNull:
        builder_->Null(n.mark());
        return;
      case DocKind::kScalar: {
        std::string_view text;
        if (!Try([&] { text = Substituted(n, scope); })) text = "";
        builder_->Scalar(n.mark(), text);
        return;
      }
      case DocKind::kSequence:
        builder_->StartSequence(n.mark());
        for (uint32_t i = 0; i < n.size; ++i) EmitValue(doc_.child(n, i), scope);
        builder_->End();
        return;
      case DocKind::kMap:
        builder_->StartMap(n.mark());
        for (uint32_t i = 0; i < n.size; i += 2) {
          Copy(doc_.child(n, i));  // keys are never substituted
          EmitValue(doc_.child(n, i + 1), scope);
        }
        builder_->End();
        return;
    }
  }

  // `n` as written.
  void Copy(const DocNode& n) {
    switch (n.kind) {
      case DocKind::kNull:
        builder_->Null(n.mark());
        return;
      case DocKind::kScalar:
        builder_->Scalar(n.mark(), doc_.scalar(n));
        return;
      case DocKind::kSequence:
      case DocKind::kMap:
        if (n.kind == DocKind::kMap) {
          builder_->StartMap(n.mark());
        } else {
          builder_->StartSequence(n.mark());
        }
        for (uint32_t i = 0; i < n.size; ++i) Copy(doc_.child(n, i));
        builder_->End();
        return;
    }
  }

  const DocTree& doc_;
  const SpecLimits& limits_;
  SpecErrorList errors_;
  std::optional<TemplateSet> templates_;
  bool templates_failed_ = false;
  std::vector<StackPlan> plans_;
  SpecIdIndex matrix_stacks_;                 // base names of the matrix stacks
  std::vector<size_t> plan_of_matrix_stack_;  // by index in matrix_stacks_
  std::optional<DocTreeBuilder> builder_;
  std::string text_;  // Substituted's result
  std::string ref_;
};

}  // namespace

bool NeedsExpansion(const DocTree& doc) {
  const DocNode& root = doc.root();
  if (root.kind != DocKind::kMap) return false;
  if (HasSubstitution(doc.all_scalars())) return true;
  for (uint32_t i = 0; i < root.size; i += 2) {
    const std::string_view name = KeyText(doc, doc.child(root, i));
    const DocNode& value = doc.child(root, i + 1);
    if (name == "templates") return true;
    if (name != "stacks" || value.kind != DocKind::kMap) continue;
    for (uint32_t s = 1; s < value.size; s += 2) {
      const DocNode& body = doc.child(value, s);
      for (uint32_t f = 0; body.kind == DocKind::kMap && f < body.size; f += 2) {
        const std::string_view key = KeyText(doc, doc.child(body, f));
        if (key == "matrix" || key == "uses" || key == "with") return true;
      }
    }
  }
  return false;
}

DocTree ExpandDocument(const DocTree& doc, const SpecLimits& limits, size_t max_errors) {
  if (doc.root().kind != DocKind::kMap) {
    throw SpecError(doc.root().mark(), "the spec must be a map with 'name' and 'stacks'");
  }
  return Expander(doc, limits, max_errors).Run();
}

}  // namespace hollerith
