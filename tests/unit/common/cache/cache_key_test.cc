// A card's cache key: the same card with the same inputs has the same key, and each part of what
// a card can observe, changed alone, changes the key and is named as the part that changed.
#include "common/cache/cache_key.h"
#include "common/cache/result_cache.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace hollerith {
namespace {

CardSpec Card() {
  CardSpec card;
  card.id = "c";
  card.shell = "sort data.txt > sorted.txt";
  card.mutable_env() = {{"LANG", "C"}};
  card.inputs = {{{0, 0}, "data.txt", "data.txt"}};
  card.outputs = {"sorted.txt"};
  card.cache = true;
  return card;
}

const std::vector<std::string> kInputs = {std::string(64, 'a')};

// The tags an entry of `parts` keeps in the cache's index (from its hex digests, as it reads them).
std::vector<uint32_t> Tags(const CacheKeyParts& parts) {
  std::vector<uint32_t> tags;
  for (const auto& [name, hex] : parts.Named()) tags.push_back(ResultCache::PartTag(hex));
  return tags;
}

TEST(CacheKeyTest, TheSameCardAndInputsHaveTheSameKey) {
  const CacheKeyParts a = CardCacheKeyParts(Card(), kInputs, "");
  const CacheKeyParts b = CardCacheKeyParts(Card(), kInputs, "");
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.key.size(), 64u);
  EXPECT_EQ(ChangedCacheKeyParts(a, Tags(b)), "");
}

TEST(CacheKeyTest, EachPartChangedAloneChangesTheKeyAndIsNamed) {
  struct Variant {
    std::string part;
    std::function<void(CardSpec&, std::vector<std::string>&, std::string&)> change;
  };
  const std::vector<Variant> variants = {
      {"command", [](CardSpec& c, auto&, auto&) { c.shell = "sort -r data.txt > sorted.txt"; }},
      {"command",
       [](CardSpec& c, auto&, auto&) {
         c.shell.clear();
         c.mutable_argv() = {"sort", "data.txt"};
       }},
      {"env",
       [](CardSpec& c, auto&, auto&) {
         c.mutable_env() = {{"LANG", "en_US"}};
       }},
      {"limits", [](CardSpec& c, auto&, auto&) { c.mutable_limits().files = 1024; }},
      {"inputs", [](CardSpec&, auto& in, auto&) { in = {std::string(64, 'b')}; }},
      {"inputs", [](CardSpec& c, auto&, auto&) { c.inputs[0].dest = "other.txt"; }},
      {"outputs", [](CardSpec& c, auto&, auto&) { c.outputs.push_back("count.txt"); }},
      {"earlier cards", [](CardSpec&, auto&, auto& previous) { previous = "k"; }},
      {"cache_version", [](CardSpec& c, auto&, auto&) { c.mutable_cache_version() = "2"; }},
  };
  const CacheKeyParts base = CardCacheKeyParts(Card(), kInputs, "");
  for (const Variant& v : variants) {
    CardSpec card = Card();
    std::vector<std::string> inputs = kInputs;
    std::string previous;
    v.change(card, inputs, previous);
    const CacheKeyParts changed = CardCacheKeyParts(card, inputs, previous);
    EXPECT_NE(changed.key, base.key) << v.part;
    EXPECT_EQ(ChangedCacheKeyParts(changed, Tags(base)), v.part);
  }
}

TEST(CacheKeyTest, WhatIsNotObservableIsNotInTheKey) {
  // Retries, the timeout and the card's id change nothing the card computes.
  CardSpec card = Card();
  card.retries = 3;
  card.timeout = Duration(5000);
  card.id = "renamed";
  EXPECT_EQ(CardCacheKeyParts(card, kInputs, "").key, CardCacheKeyParts(Card(), kInputs, "").key);
}

TEST(CacheKeyTest, FieldsAreFramedSoThatNeighboursDoNotRunTogether) {
  CardSpec a = Card();
  a.mutable_env() = {{"AB", "C"}};
  CardSpec b = Card();
  b.mutable_env() = {{"A", "BC"}};
  EXPECT_NE(CardCacheKeyParts(a, kInputs, "").key, CardCacheKeyParts(b, kInputs, "").key);
}

}  // namespace
}  // namespace hollerith
