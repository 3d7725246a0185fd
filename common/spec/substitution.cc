#include "common/spec/substitution.h"

#include "common/spec/document.h"
#include "common/spec/quantities.h"

namespace hollerith {
namespace {

constexpr std::string_view kOpen = "${{";
constexpr std::string_view kClose = "}}";

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

void Substitute(std::string_view text, SourceMark mark, const SubstitutionScope& scope,
                std::string& out, bool keep_escapes) {
  size_t pos = 0;
  while (true) {
    const size_t open = text.find(kOpen, pos);
    if (open == std::string_view::npos) break;
    if (open > 0 && text[open - 1] == '$') {  // `$${{`: a literal `${{`, the `$` dropped
      out.append(text.substr(pos, keep_escapes ? open - pos : open - 1 - pos)).append(kOpen);
      pos = open + kOpen.size();
      continue;
    }
    out.append(text.substr(pos, open - pos));
    const size_t close = text.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) {
      throw SpecError(mark, "'${{' without '}}' in " + QuoteForMessage(text) +
                                " (write '$${{' for a literal '${{')");
    }
    const std::string_view inner =
        Trim(text.substr(open + kOpen.size(), close - open - kOpen.size()));
    const size_t dot = inner.find('.');
    const std::string_view ns = dot == std::string_view::npos ? inner : inner.substr(0, dot);
    const std::string_view key = dot == std::string_view::npos ? "" : inner.substr(dot + 1);
    if ((ns != "matrix" && ns != "params") || !IsValidId(key)) {
      throw SpecError(mark, "bad substitution '${{ " + std::string(inner) + " }}' in " +
                                QuoteForMessage(text) +
                                " (expected ${{ matrix.KEY }} or ${{ params.NAME }})");
    }
    std::string_view value;
    std::string why;
    if (!scope.Find(ns, key, &value, &why)) {
      throw SpecError(mark, "'${{ " + std::string(inner) + " }}': " + why);
    }
    out.append(value);
    pos = close + kClose.size();
  }
  out.append(text.substr(pos));
}

std::string EscapeSubstitutions(std::string_view text) {
  std::string out;
  size_t pos = 0;
  for (size_t open; (open = text.find(kOpen, pos)) != std::string_view::npos;) {
    out.append(text.substr(pos, open - pos)).append("$").append(kOpen);
    pos = open + kOpen.size();
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace hollerith
