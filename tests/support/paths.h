// Where the integration tests find the CLI and the example specs (set by tests/CMakeLists.txt).
#pragma once

#include <string>

namespace hollerith::testing {

inline const std::string kHollerith = HOLLERITH_CLI_PATH;
inline const std::string kExamples = std::string(HOLLERITH_SOURCE_DIR) + "/examples/";

}  // namespace hollerith::testing
