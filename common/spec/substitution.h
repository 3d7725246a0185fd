// `${{ NAMESPACE.KEY }}` in spec text: the one substitution syntax of matrix values
// (`${{ matrix.os }}`) and template parameters (`${{ params.image }}`). It cannot be confused with
// the shell's: `$X` and `${X}` are left as written for the shell, and `$${{` is a literal `${{`.
// Spaces inside the braces are optional. Substituted text is not scanned again.
#pragma once

#include <string>
#include <string_view>

#include "common/spec/job.h"

namespace hollerith {

// What `${{ NAMESPACE.KEY }}` may name at one place of a spec.
class SubstitutionScope {
 public:
  virtual ~SubstitutionScope() = default;
  // The value NAMESPACE.KEY stands for. If it names nothing, returns false and sets `*why` to
  // the reason, for an error message (e.g. "unknown matrix key 'nope' (keys: os, level)").
  virtual bool Find(std::string_view ns, std::string_view key, std::string_view* value,
                    std::string* why) const = 0;
};

// True if `text` holds "${{", i.e. Substitute may change it (a substitution or an escape).
inline bool HasSubstitution(std::string_view text) {
  return text.find("${{") != std::string_view::npos;
}

// Appends `text` to `out` with every `${{ NAMESPACE.KEY }}` replaced by its value and every
// `$${{` by `${{` (kept as `$${{` with `keep_escapes`: the text is substituted again later, as a
// run-time matrix stack is). Throws SpecError at `mark` (the string's place) for an unknown name
// or a malformed `${{`.
void Substitute(std::string_view text, SourceMark mark, const SubstitutionScope& scope,
                std::string& out, bool keep_escapes = false);

// `text` with every `${{` written as `$${{`: what Substitute turns back into `text`. For writing
// an expanded spec that reads back to the same job.
std::string EscapeSubstitutions(std::string_view text);

}  // namespace hollerith
