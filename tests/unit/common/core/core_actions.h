// Helpers of the scheduler core's tests: pick actions of one kind out of what the core decided.
#pragma once

#include <variant>
#include <vector>

#include "common/core/scheduler_core.h"

namespace hollerith {

template <typename T>
std::vector<T> Only(const std::vector<CoreAction>& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (auto* x = std::get_if<T>(&a)) out.push_back(*x);
  }
  return out;
}

}  // namespace hollerith
