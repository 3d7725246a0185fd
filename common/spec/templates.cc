#include "common/spec/templates.h"

#include "common/spec/quantities.h"

namespace hollerith {
namespace {

std::string_view KeyText(const DocTree& doc, const DocNode& key) {
  return key.kind == DocKind::kScalar ? doc.scalar(key) : std::string_view();
}

std::string ParamNames(const StackTemplate& t) {
  std::string names;
  for (const auto& p : t.params) names.append(names.empty() ? "" : ", ").append(p.name);
  return names.empty() ? "none" : names;
}

}  // namespace

TemplateSet::TemplateSet(const DocTree& doc, const DocNode& templates) {
  if (templates.kind != DocKind::kMap) {
    throw SpecError(templates.mark(), "'templates' must be a map of template name to stack");
  }
  templates_.reserve(templates.size / 2);
  for (uint32_t i = 0; i < templates.size; i += 2) {
    const DocNode& key = doc.child(templates, i);
    const DocNode& body = doc.child(templates, i + 1);
    const std::string_view name = KeyText(doc, key);
    if (!IsValidId(name)) {
      throw SpecError(key.mark(), "bad template name " + QuoteForMessage(name) +
                                      " (use 1-64 characters from A-Z a-z 0-9 _ -)");
    }
    if (index_.Add(name) != SpecIdIndex::kAbsent) {
      throw SpecError(key.mark(), "duplicate template " + QuoteForMessage(name));
    }
    StackTemplate& t = templates_.emplace_back();
    t.name = name;
    t.body = &body;
    if (body.kind != DocKind::kMap) {
      throw SpecError(body.mark(), "template " + QuoteForMessage(name) + " must be a map");
    }
    for (uint32_t f = 0; f < body.size; f += 2) {
      const DocNode& field = doc.child(body, f);
      const std::string_view field_name = KeyText(doc, field);
      if (field_name == "uses" || field_name == "with") {
        throw SpecError(field.mark(), "template " + QuoteForMessage(name) + " has '" +
                                          std::string(field_name) +
                                          "': a template may not use another template "
                                          "(templates are one level deep)");
      }
      if (field_name != "params") continue;
      const DocNode& params = doc.child(body, f + 1);
      if (params.kind != DocKind::kMap) {
        throw SpecError(params.mark(), "'params' of template " + QuoteForMessage(name) +
                                           " must be a map of name to default (null: required)");
      }
      for (uint32_t p = 0; p < params.size; p += 2) {
        const DocNode& param = doc.child(params, p);
        const DocNode& value = doc.child(params, p + 1);
        const std::string_view param_name = KeyText(doc, param);
        if (!IsValidId(param_name)) {
          throw SpecError(param.mark(), "bad parameter name " + QuoteForMessage(param_name) +
                                            " (use 1-64 characters from A-Z a-z 0-9 _ -)");
        }
        for (const auto& earlier : t.params) {
          if (earlier.name == param_name) {
            throw SpecError(param.mark(), "duplicate parameter " + QuoteForMessage(param_name));
          }
        }
        if (value.kind != DocKind::kScalar && value.kind != DocKind::kNull) {
          throw SpecError(value.mark(), "the default of parameter " + QuoteForMessage(param_name) +
                                            " must be a string (or null: required)");
        }
        t.params.push_back({param_name, value.kind == DocKind::kNull ? nullptr : &value});
      }
    }
  }
}

const StackTemplate* TemplateSet::Find(std::string_view name) const {
  const uint32_t i = index_.Find(name);
  return i == SpecIdIndex::kAbsent ? nullptr : &templates_[i];
}

const DocNode* StackBody::Find(const DocTree& doc, std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (KeyText(doc, *k) == key) return v;
  }
  return nullptr;
}

StackBody ResolveStackBody(const DocTree& doc, const TemplateSet& templates,
                           std::string_view stack_id, const DocNode& body) {
  StackBody out;
  const DocNode* uses_key = nullptr;
  const DocNode* uses = nullptr;
  const DocNode* with = nullptr;
  for (uint32_t i = 0; i < body.size; i += 2) {
    const DocNode& key = doc.child(body, i);
    const DocNode& value = doc.child(body, i + 1);
    const std::string_view name = KeyText(doc, key);
    if (name == "uses") {
      uses_key = &key;
      uses = &value;
    } else if (name == "with") {
      with = &value;
    } else {
      out.fields.emplace_back(&key, &value);
    }
  }
  const std::string where = "stack " + QuoteForMessage(stack_id);
  if (!uses) {
    if (with) throw SpecError(with->mark(), where + " has 'with' but no 'uses'");
    return out;
  }
  if (uses->kind != DocKind::kScalar) {
    throw SpecError(uses->mark(), "'uses' of " + where + " must be a template name");
  }
  const std::string_view name = doc.scalar(*uses);
  const StackTemplate* t = templates.Find(name);
  if (!t) throw SpecError(uses->mark(), where + " uses unknown template " + QuoteForMessage(name));
  out.from_template = t;
  out.param_values.resize(t->params.size());
  out.param_marks.assign(t->params.size(), uses->mark());
  std::vector<bool> given(t->params.size(), false);
  if (with) {
    if (with->kind != DocKind::kMap) {
      throw SpecError(with->mark(), "'with' of " + where + " must be a map of parameter values");
    }
    for (uint32_t i = 0; i < with->size; i += 2) {
      const DocNode& key = doc.child(*with, i);
      const DocNode& value = doc.child(*with, i + 1);
      const std::string_view param = KeyText(doc, key);
      size_t p = 0;
      while (p < t->params.size() && t->params[p].name != param) ++p;
      if (p == t->params.size()) {
        throw SpecError(key.mark(), where + " sets unknown parameter " + QuoteForMessage(param) +
                                        " of template " + QuoteForMessage(name) +
                                        " (parameters: " + ParamNames(*t) + ")");
      }
      if (given[p]) throw SpecError(key.mark(), "duplicate parameter " + QuoteForMessage(param));
      if (value.kind != DocKind::kScalar) {
        throw SpecError(value.mark(),
                        "the value of parameter " + QuoteForMessage(param) + " must be a string");
      }
      given[p] = true;
      out.param_values[p] = doc.scalar(value);
      out.param_marks[p] = value.mark();
    }
  }
  for (size_t p = 0; p < t->params.size(); ++p) {
    if (given[p]) continue;
    if (!t->params[p].default_value) {
      throw SpecError(uses_key->mark(), where + " must set parameter " +
                                            QuoteForMessage(t->params[p].name) + " of template " +
                                            QuoteForMessage(name) + " in 'with'");
    }
    out.param_values[p] = doc.scalar(*t->params[p].default_value);
  }
  // The template's keys that the stack does not set itself.
  const size_t own = out.fields.size();
  for (uint32_t i = 0; i < t->body->size; i += 2) {
    const DocNode& key = doc.child(*t->body, i);
    const std::string_view field = KeyText(doc, key);
    if (field == "params") continue;
    bool overridden = false;
    for (size_t f = 0; f < own && !overridden; ++f) {
      overridden = KeyText(doc, *out.fields[f].first) == field;
    }
    if (!overridden) out.fields.emplace_back(&key, &doc.child(*t->body, i + 1));
  }
  return out;
}

}  // namespace hollerith
