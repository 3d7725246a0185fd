// YAML front end of the spec parser: drives yaml-cpp's event parser (no yaml-cpp node tree, which
// is several times slower and larger) into a DocTree. Nesting is bounded by SpecLimits::max_depth
// while parsing, so deeply nested hostile input stops early instead of recursing.
#pragma once

#include <string_view>

#include "common/spec/document.h"

namespace hollerith {

// Throws SpecError for syntax errors ("syntax error: ..."), aliases (not supported), more than
// one document, an empty document, or when a SpecLimits bound is exceeded.
DocTree ReadYamlDocument(std::string_view text, const SpecLimits& limits);

}  // namespace hollerith
