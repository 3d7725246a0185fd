// libFuzzer target: the trace reader of `hollerith verify` (Chrome Trace JSON against a spec),
// then the verifier on whatever it accepted, then a write and re-read of that trace (what the
// reader accepts, the writer must write so that the reader accepts it again, with equal events).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "common/spec/parser.h"
#include "common/trace/chrome_trace.h"
#include "common/trace/verify.h"

namespace {

// The README's two-stack example with a combine: stacks, cards, `after`, inputs.
constexpr const char* kSpec = R"(name: report
stacks:
  A:
    cards:
      - id: fetch
        run: sh -c 'seq 1 1000 > numbers.txt'
        outputs: [numbers.txt]
      - id: sum
        run: awk '{s+=$1} END {print s}' numbers.txt
  B:
    cards:
      - id: double
        after: [A.sum]
        inputs: [A.fetch:numbers.txt]
        run: awk '{s+=2*$1} END {print s}' numbers.txt
      - id: nap
        builtin: {sleep: 200ms}
combine:
  run: cat results/A.sum.stdout
)";

const hollerith::JobSpec& Job() {
  static const hollerith::JobSpec job = [] {
    auto parsed = hollerith::ParseJobSpec(kSpec, "report.yaml");
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.message().c_str());
      std::abort();
    }
    return std::move(parsed).value();
  }();
  return job;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const hollerith::JobSpec& job = Job();
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto trace = hollerith::ReadChromeTrace(job, in);
  if (!trace.ok()) return 0;
  (void)hollerith::VerifyTrace(job, *trace);
  std::ostringstream out;
  hollerith::WriteChromeTrace(job, *trace, out);
  std::istringstream again(out.str());
  auto reread = hollerith::ReadChromeTrace(job, again);
  if (!reread.ok() || reread->events().size() != trace->events().size()) {
    std::fprintf(stderr, "a trace that was read does not read back after writing: %s\n",
                 reread.ok() ? "event count differs" : reread.message().c_str());
    std::abort();
  }
  return 0;
}
