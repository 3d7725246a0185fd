#include "common/cache/cache_key.h"

#include "common/base/hex.h"
#include "common/spec/limits.h"

namespace hollerith {
namespace {

// Each field framed by its length, so that ("ab", "c") and ("a", "bc") never digest alike.
void Field(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
  out += '\n';
}

std::string CommandText(const CardSpec& card) {
  std::string text;
  switch (card.builtin) {
    case BuiltinKind::kNoop:
      Field(text, "builtin noop");
      break;
    case BuiltinKind::kSleep:
      Field(text, "builtin sleep");
      Field(text, std::to_string(card.sleep.count()));
      break;
    case BuiltinKind::kNone:
      if (card.argv().empty()) {
        Field(text, "shell");
        Field(text, card.shell);
      } else {
        Field(text, "argv");
        for (const std::string& arg : card.argv()) Field(text, arg);
      }
      break;
  }
  return text;
}

// Most cards leave several parts empty: their digest is computed once.
Sha256Digest Digest(std::string_view text) {
  static const Sha256Digest kEmpty = Sha256Of("");
  return text.empty() ? kEmpty : Sha256Of(text);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> CacheKeyParts::Named() const {
  std::vector<std::pair<std::string, std::string>> named;
  for (size_t i = 0; i < kCount; ++i) {
    named.emplace_back(kNames[i], HexEncode(digests[i].data(), digests[i].size()));
  }
  return named;
}

CacheKeyParts CardCacheKeyParts(const CardSpec& card, const std::vector<std::string>& inputs,
                                const std::string& previous_key) {
  CacheKeyParts parts;
  parts.digests[0] = Digest(CommandText(card));
  std::string text;
  for (const auto& [name, value] : card.env()) {
    Field(text, name);
    Field(text, value);
  }
  parts.digests[1] = Digest(text);
  parts.digests[2] = Digest(FormatLimitList(card.limits()));
  text.clear();
  for (size_t i = 0; i < card.inputs.size(); ++i) {
    Field(text, card.inputs[i].dest);
    Field(text, i < inputs.size() ? inputs[i] : std::string());
  }
  parts.digests[3] = Digest(text);
  text.clear();
  for (const std::string& path : card.outputs) Field(text, path);
  parts.digests[4] = Digest(text);
  parts.digests[5] = Digest(previous_key);
  parts.digests[6] = Digest(card.cache_version());
  // The parts have a fixed length each: no framing is needed.
  text = "hollerith card cache key 1\n";
  for (const Sha256Digest& d : parts.digests) text.append(d.begin(), d.end());
  const Sha256Digest key = Sha256Of(text);
  parts.key = HexEncode(key.data(), key.size());
  return parts;
}

uint32_t CacheKeyPartTag(const Sha256Digest& d) {
  return uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 | d[3];
}

std::string ChangedCacheKeyParts(const CacheKeyParts& now, const std::vector<uint32_t>& before) {
  std::string changed;
  for (size_t i = 0; i < CacheKeyParts::kCount; ++i) {
    if (i < before.size() && before[i] == CacheKeyPartTag(now.digests[i])) continue;
    changed += (changed.empty() ? "" : ", ") + std::string(CacheKeyParts::kNames[i]);
  }
  return changed;
}

}  // namespace hollerith
