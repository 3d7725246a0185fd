// libFuzzer target: the spec parser's JSON path (the strict non-recursive reader, the document
// tree, the schema reader, the cycle check): every input is read as text starting with '{'.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/spec/parser.h"
#include "tests/fuzz/spec_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') text.insert(0, "{");
  auto parsed = hollerith::ParseJobSpec(text, "fuzz.json");
  if (parsed.ok()) hollerith::fuzz::CheckAcceptedSpec(*parsed);
  return 0;
}
