#include "common/cache/cache_key.h"

#include "common/artifacts/store.h"
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
      if (card.argv.empty()) {
        Field(text, "shell");
        Field(text, card.shell);
      } else {
        Field(text, "argv");
        for (const std::string& arg : card.argv) Field(text, arg);
      }
      break;
  }
  return text;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> CacheKeyParts::Named() const {
  std::vector<std::pair<std::string, std::string>> named;
  for (size_t i = 0; i < kCount; ++i) named.emplace_back(kNames[i], digests[i]);
  return named;
}

CacheKeyParts CardCacheKeyParts(const CardSpec& card, const std::vector<std::string>& inputs,
                                const std::string& previous_key) {
  CacheKeyParts parts;
  parts.digests[0] = Sha256Hex(CommandText(card));
  std::string env;
  for (const auto& [name, value] : card.env) {
    Field(env, name);
    Field(env, value);
  }
  parts.digests[1] = Sha256Hex(env);
  parts.digests[2] = Sha256Hex(FormatLimitList(card.limits));
  std::string in;
  for (size_t i = 0; i < card.inputs.size(); ++i) {
    Field(in, card.inputs[i].dest);
    Field(in, i < inputs.size() ? inputs[i] : std::string());
  }
  parts.digests[3] = Sha256Hex(in);
  std::string out;
  for (const std::string& path : card.outputs) Field(out, path);
  parts.digests[4] = Sha256Hex(out);
  parts.digests[5] = Sha256Hex(previous_key);
  parts.digests[6] = Sha256Hex(card.cache_version);
  std::string all = "hollerith card cache key 1\n";
  for (const std::string& d : parts.digests) Field(all, d);
  parts.key = Sha256Hex(all);
  return parts;
}

std::string ChangedCacheKeyParts(const std::vector<std::pair<std::string, std::string>>& now,
                                 const std::vector<std::pair<std::string, std::string>>& before) {
  std::string changed;
  for (const auto& [name, digest] : now) {
    bool same = false;
    for (const auto& [old_name, old_digest] : before) {
      if (old_name == name) same = old_digest == digest;
    }
    if (!same) changed += (changed.empty() ? "" : ", ") + name;
  }
  return changed;
}

}  // namespace hollerith
