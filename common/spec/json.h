// Strict JSON (RFC 8259) front end of the spec parser: a single-pass, non-recursive reader that
// builds a DocTree and reports syntax errors at their 1-based line and byte column. It exists
// because yaml-cpp needs seconds for a million-card spec; this reads one in well under a second.
#pragma once

#include <string_view>

#include "common/spec/document.h"

namespace hollerith {

// Throws SpecError on malformed JSON or when a SpecLimits bound is exceeded. Expects text that
// was already checked to be valid UTF-8 without NUL bytes.
DocTree ReadJsonDocument(std::string_view text, const SpecLimits& limits);

}  // namespace hollerith
