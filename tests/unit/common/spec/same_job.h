// Helpers of the spec tests: parse a spec that must be valid, compare two parsed jobs.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "common/spec/parser.h"

namespace hollerith {

inline JobSpec MustParse(std::string_view text, const std::string& source = "spec.yaml") {
  auto r = ParseJobSpec(text, source);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? std::move(r).value() : JobSpec{};
}

// Everything but source marks, so YAML and JSON parses of one job can be compared.
inline void ExpectSameJob(const JobSpec& a, const JobSpec& b) {
  EXPECT_EQ(a.name, b.name);
  ASSERT_EQ(a.stacks.size(), b.stacks.size());
  for (size_t s = 0; s < a.stacks.size(); ++s) {
    const StackSpec& x = a.stacks[s];
    const StackSpec& y = b.stacks[s];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.node, y.node);
    EXPECT_EQ(x.labels, y.labels);
    EXPECT_EQ(x.is_combine, y.is_combine);
    ASSERT_EQ(x.cards.size(), y.cards.size()) << x.id;
    for (size_t c = 0; c < x.cards.size(); ++c) {
      const CardSpec& p = x.cards[c];
      const CardSpec& q = y.cards[c];
      EXPECT_EQ(p.id, q.id);
      EXPECT_EQ(p.shell, q.shell);
      EXPECT_EQ(p.argv(), q.argv());
      EXPECT_EQ(p.builtin, q.builtin);
      EXPECT_EQ(p.sleep, q.sleep);
      EXPECT_EQ(p.after, q.after);
      ASSERT_EQ(p.inputs.size(), q.inputs.size());
      for (size_t i = 0; i < p.inputs.size(); ++i) {
        EXPECT_EQ(p.inputs[i].from, q.inputs[i].from);
        EXPECT_EQ(p.inputs[i].path, q.inputs[i].path);
        EXPECT_EQ(p.inputs[i].dest, q.inputs[i].dest);
      }
      EXPECT_EQ(p.outputs, q.outputs);
      EXPECT_EQ(p.env(), q.env());
      EXPECT_EQ(p.timeout, q.timeout);
      EXPECT_EQ(p.retries, q.retries);
      EXPECT_EQ(p.limits(), q.limits());
    }
  }
}

}  // namespace hollerith
