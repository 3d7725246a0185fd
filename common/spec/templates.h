// The job's `templates:`: stack bodies with named parameters, and the stacks that use them.
//
//   templates:
//     test:
//       params: {image: debian, suite: null}   # null: required
//       cards: [{id: run, run: "./test ${{ params.suite }} on ${{ params.image }}"}]
//   stacks:
//     unit: {uses: test, with: {suite: unit}, node: fast-1}
//
// A using stack gets the template's keys (all but `params`), each overridden by the stack's own
// key of the same name (`uses` and `with` aside). A template may not use another one: templates
// are one level deep, so nesting is bounded by construction.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/spec/document.h"
#include "common/spec/id_index.h"

namespace hollerith {

struct StackTemplate {
  struct Param {
    std::string_view name;
    const DocNode* default_value = nullptr;  // nullptr: required
  };
  std::string_view name;
  const DocNode* body = nullptr;  // a map: `params` and stack keys
  std::vector<Param> params;
};

class TemplateSet {
 public:
  // Reads the value of the job's `templates:`. Throws SpecError; views into `doc`.
  TemplateSet(const DocTree& doc, const DocNode& templates);
  TemplateSet() = default;

  const StackTemplate* Find(std::string_view name) const;

 private:
  std::vector<StackTemplate> templates_;
  SpecIdIndex index_;
};

// A stack's body once its template (if any) is applied: the key/value fields it has, and the
// values of the template's parameters (text that may still hold `${{ matrix.KEY }}`).
struct StackBody {
  using Field = std::pair<const DocNode*, const DocNode*>;
  std::vector<Field> fields;  // the stack's own keys (but `uses`, `with`), then the template's
  const StackTemplate* from_template = nullptr;
  std::vector<std::string_view> param_values;  // for each of from_template->params
  std::vector<SourceMark> param_marks;

  const DocNode* Find(const DocTree& doc, std::string_view key) const;
};

// Applies `uses:`/`with:` of the stack `stack_id` whose body is the map `body`. Throws SpecError
// at the using line: unknown template, unknown or missing parameter.
StackBody ResolveStackBody(const DocTree& doc, const TemplateSet& templates,
                           std::string_view stack_id, const DocNode& body);

}  // namespace hollerith
