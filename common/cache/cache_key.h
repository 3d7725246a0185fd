// Family common/cache/ (library hollerith_cache_key): what a card's result cache key is made of.
// May use: the job model, and artifacts' sha256. Knows nothing of where entries are kept.
//
// A cacheable card's key is a digest of everything it can observe under confinement: its command
// (argv, shell text or built-in), its spec `env`, its `limits`, the workspace paths and digests of
// its `inputs`, the paths of its declared `outputs` (a hit restores exactly those), the key of the
// card before it in its stack (the state of the workspace it starts in, chained), and its
// `cache_version:`. Not in it: the worker's host, time, network, the node's environment, the
// job's name, retries and timeout. docs/cache.md says the same for users.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/artifacts/store.h"
#include "common/spec/job.h"

namespace hollerith {

// The parts of a key, each a sha256 digest, in a fixed order, and the key: the digest of the
// parts.
struct CacheKeyParts {
  static constexpr size_t kCount = 7;
  // Names as people read them in "miss: command changed".
  static constexpr std::array<std::string_view, kCount> kNames = {
      "command", "env", "limits", "inputs", "outputs", "earlier cards", "cache_version"};
  std::array<Sha256Digest, kCount> digests{};
  std::string key;  // lower-case hex, as entries are kept and shown

  // (name, hex digest) of each part, as an entry keeps them.
  std::vector<std::pair<std::string, std::string>> Named() const;
};

// `inputs`: the digest each of card.inputs was published with, in the order of card.inputs.
// `previous_key`: the key of the card before it in its stack ("" for the first card).
CacheKeyParts CardCacheKeyParts(const CardSpec& card, const std::vector<std::string>& inputs,
                                const std::string& previous_key);

// What an entry's index keeps of each part: the first 32 bits of its digest (big-endian: the
// first 8 hex digits, as ResultCache::PartTag reads them from an entry).
uint32_t CacheKeyPartTag(const Sha256Digest& digest);
// The names of the parts of `now` whose tags differ from `before` (an entry's tags, in the same
// order): "command, env"; "" if none does.
std::string ChangedCacheKeyParts(const CacheKeyParts& now, const std::vector<uint32_t>& before);

}  // namespace hollerith
