// libFuzzer target: the spec parser's YAML path (yaml-cpp's event parser, the document tree, the
// schema reader, the cycle check). Text starting with '{' takes the JSON path: spec_json_fuzz.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/spec/parser.h"
#include "tests/fuzz/spec_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') return -1;  // not for this target
  auto parsed = hollerith::ParseJobSpec(text, "fuzz.yaml");
  if (parsed.ok()) hollerith::fuzz::CheckAcceptedSpec(*parsed);
  return 0;
}
