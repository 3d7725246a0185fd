// Builds JobSpecs in code (no parser), for tests of the core, the runners and verify.
#pragma once

#include <random>
#include <string>

#include "common/spec/job.h"

namespace hollerith::testing {

class JobBuilder {
 public:
  explicit JobBuilder(std::string name) { job_.name = std::move(name); }
  uint32_t Stack(const std::string& id) {
    StackSpec s;
    s.id = id;
    job_.stacks.push_back(std::move(s));
    return static_cast<uint32_t>(job_.stacks.size() - 1);
  }
  // Adds a card (a shell command, or noop if empty) to `stack`; returns its ref.
  CardRef Card(uint32_t stack, const std::string& id, const std::string& shell = "",
               std::vector<CardRef> after = {}, int retries = 0) {
    CardSpec c;
    c.id = id;
    c.shell = shell;
    if (shell.empty()) c.builtin = BuiltinKind::kNoop;
    c.after = std::move(after);
    c.retries = retries;
    auto& cards = job_.stacks[stack].cards;
    cards.push_back(std::move(c));
    return {stack, static_cast<uint32_t>(cards.size() - 1)};
  }
  CardSpec& card(CardRef r) { return job_.stacks[r.stack].cards[r.card]; }
  // Appends the combine stack (after the last card of every stack), as the parser does.
  void Combine(const std::string& shell = "") {
    uint32_t n = static_cast<uint32_t>(job_.stacks.size());
    uint32_t s = Stack("combine");
    job_.stacks[s].is_combine = true;
    std::vector<CardRef> after;
    for (uint32_t i = 0; i < n; ++i) {
      after.push_back({i, static_cast<uint32_t>(job_.stacks[i].cards.size() - 1)});
    }
    Card(s, "combine", shell, after);
  }
  JobSpec Build() const { return job_; }

 private:
  JobSpec job_;
};

// The two-stack job of DESIGN.md, every card `true`: A.fetch, A.sum; B.prepare, B.double (after
// A.sum, with `double_retries`); combine.
inline JobSpec TwoStackReportJob(int double_retries = 0) {
  JobBuilder b("report");
  const uint32_t a = b.Stack("A");
  const uint32_t s = b.Stack("B");
  b.Card(a, "fetch", "true");
  const CardRef sum = b.Card(a, "sum", "true");
  b.Card(s, "prepare", "true");
  b.Card(s, "double", "true", {sum}, double_retries);
  b.Combine("true");
  return b.Build();
}

// A random acyclic job: cards are created one by one into random stacks; `after` edges point only
// to cards created earlier in other stacks, so stack order and edges can never form a cycle.
inline JobSpec RandomJob(std::mt19937& rng, int max_stacks, int max_cards, bool combine,
                         int max_retries) {
  JobBuilder b("random");
  int stacks = std::uniform_int_distribution<int>(1, max_stacks)(rng);
  for (int s = 0; s < stacks; ++s) b.Stack("S" + std::to_string(s));
  std::vector<CardRef> created;
  int cards = std::uniform_int_distribution<int>(stacks, max_cards)(rng);
  for (int i = 0; i < cards; ++i) {
    // The first `stacks` cards give every stack at least one card.
    uint32_t s = i < stacks ? i : std::uniform_int_distribution<uint32_t>(0, stacks - 1)(rng);
    std::vector<CardRef> after;
    for (CardRef c : created) {
      if (c.stack != s && std::uniform_int_distribution<int>(0, 3)(rng) == 0) after.push_back(c);
    }
    int retries = std::uniform_int_distribution<int>(0, max_retries)(rng);
    created.push_back(b.Card(s, "c" + std::to_string(i), "", after, retries));
  }
  if (combine) b.Combine();
  return b.Build();
}

}  // namespace hollerith::testing
