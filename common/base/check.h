// HOLLERITH_CHECK(condition, message): a fatal check for true invariants of the program (like
// Envoy's RELEASE_ASSERT), on in every build. Never for input from the network or a file: those
// are Status values. On failure it prints the place, the condition and the message, then aborts.
#pragma once

namespace hollerith::detail {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const char* message);
}  // namespace hollerith::detail

#define HOLLERITH_CHECK(condition, message)                                        \
  do {                                                                             \
    if (!(condition)) [[unlikely]] {                                               \
      ::hollerith::detail::CheckFailed(__FILE__, __LINE__, #condition, (message)); \
    }                                                                              \
  } while (false)
