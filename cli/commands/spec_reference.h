// The job spec reference that `hollerith help spec` prints: every key the schema accepts, at each
// level of a spec, with its type, default and an example.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace hollerith::cli {

struct SpecKeyDoc {
  const char* key;
  const char* type;
  const char* default_value;  // "required" for a key that must be present
  const char* meaning;
  const char* example;  // YAML, as written at this level
};

struct SpecLevelDoc {
  const char* title;  // "job", "stack", "card", "combine"
  const char* intro;
  std::vector<SpecKeyDoc> keys;
};

// The levels in document order: the job, a stack, a card, a template, the combine card.
const std::vector<SpecLevelDoc>& SpecReference();

// A complete spec using every key (it validates; the tests check).
const char* SpecExample();

// The parser's limits (size, strings, nesting, ids, aliases), as a paragraph for people.
std::string SpecLimitsText();

// The reference as text, ending with SpecExample().
std::string SpecReferenceText();

}  // namespace hollerith::cli
