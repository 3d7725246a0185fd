#include "common/trace/chrome_trace.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/job_builder.h"

namespace hollerith {
namespace {

Result<Trace> Read(const JobSpec& job, const std::string& text) {
  std::istringstream in(text);
  return ReadChromeTrace(job, in);
}

std::string Event(const std::string& fields, const std::string& args) {
  return R"({"traceEvents":[{"ph":"B","ts":1,)" + fields +
         R"("args":{"kind":"card_started","card":"A.x","attempt":1,"lamport":2,)" + args + "}}]}";
}

// Numbers in a trace file are read strictly: a float or an integer out of a field's range is an
// error naming the field, never a conversion with undefined behaviour (found by fuzz_trace).
TEST(ChromeTraceRead, NumbersMustBeIntegersInRange) {
  testing::JobBuilder b("j");
  b.Card(b.Stack("A"), "x");
  const JobSpec job = b.Build();
  auto ok = Read(job, Event("", R"("try":1)"));
  ASSERT_TRUE(ok.ok()) << ok.message();
  ASSERT_EQ(ok->events().size(), 1u);
  EXPECT_EQ(ok->events()[0].attempt, 1u);
  EXPECT_EQ(ok->events()[0].wall_us, 1);

  for (
      const auto& [text, field] : std::vector<std::pair<std::string, std::string>>{
          {R"({"traceEvents":[{"ph":"B","ts":1.8e26,"args":{"kind":"card_started","card":"A.x"}}]})",
           "'ts'"},
          {Event("", R"("try":4294967296)"), "'try'"},
          {Event("", R"("try":-1)"), "'try'"},
          {Event("", R"("exit_code":2.5)"), "'exit_code'"},
          {Event("", R"("vc":{"A":1e30})"), "'vc'"},
      }) {
    auto r = Read(job, text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.message().find(field + " is not an integer in range"), std::string::npos)
        << r.message();
  }
  auto bad_phase = Read(job, R"({"traceEvents":[{"ph":5}]})");
  ASSERT_FALSE(bad_phase.ok());
  EXPECT_NE(bad_phase.message().find("trace event 1: malformed"), std::string::npos)
      << bad_phase.message();
}

}  // namespace
}  // namespace hollerith
