// libFuzzer target: the list a card writes for a run-time matrix (ExpandFanOut), the one input of
// a job that comes from a card rather than from its author. Whatever it accepts must be a job
// whose new stacks have valid, distinct ids and in which nothing refers to the template any more.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "common/spec/fanout.h"
#include "common/spec/parser.h"

namespace {

// A template with every field the list reaches, a fan-in with and without `dest`, a combine.
constexpr const char* kSpec = R"(name: f
stacks:
  split:
    cards: [{id: list, run: l, outputs: [items.json]}]
  p:
    matrix: {from: split.list:items.json}
    labels: {disk: "${{ matrix.item }}"}
    cards:
      - id: run
        run: ["work", "${{ matrix.item }}", "$${{ kept }}"]
        env: {ITEM: "${{ matrix.item }}"}
        outputs: ["${{ matrix.item }}.out", plain.txt]
        inputs: [{from: "split.list:items.json", dest: "in/${{ matrix.item }}.json"}]
  report:
    cards:
      - {id: all, run: a, inputs: ["p.run:plain.txt", {from: "p.run:plain.txt", dest: d.txt}]}
combine:
  run: c
)";

void Fail(const char* why) {
  std::fprintf(stderr, "ExpandFanOut accepted a list it should not have: %s\n", why);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hollerith::JobSpec job = [] {
    auto parsed = hollerith::ParseJobSpec(kSpec, "f.yaml");
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.message().c_str());
      std::abort();
    }
    return std::move(parsed).value();
  }();
  hollerith::SpecLimits limits;
  limits.max_cards = 4096;  // bounded work per input
  const std::string_view list(reinterpret_cast<const char*>(data), size);
  auto made = hollerith::ExpandFanOut(job, 1, list, limits);
  if (!made.ok()) return 0;
  const hollerith::JobSpec& e = **made;
  if (e.stacks.size() < job.stacks.size() || !e.stacks[1].fanout->expanded) Fail("not expanded");
  if (e.card_count() > limits.max_cards) Fail("more cards than the limit");
  std::set<std::string> ids;
  for (const auto& s : e.stacks) {
    if (!s.is_combine && !hollerith::IsValidId(s.id)) Fail("an invalid stack id");
    if (!ids.insert(s.id).second) Fail("two stacks with one id");
  }
  for (uint32_t s = 0; s < e.stacks.size(); ++s) {
    if (s == 1) continue;
    for (const auto& card : e.stacks[s].cards) {
      for (auto r : card.after) {
        if (r.stack == 1) Fail("an 'after' still names the template");
      }
      for (const auto& in : card.inputs) {
        if (in.from.stack == 1) Fail("an input still comes from the template");
        if (in.from.stack >= e.stacks.size()) Fail("an input from a stack that is not there");
      }
    }
  }
  (void)hollerith::DependentsIndex(e);
  return 0;
}
