#include "common/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace hollerith::detail {

void CheckFailed(const char* file, int line, const char* condition, const char* message) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace hollerith::detail
