#include "common/base/time_source.h"

namespace hollerith {
namespace {

class SystemTimeSource : public TimeSource {
 public:
  MonotonicTime Now() const override { return std::chrono::steady_clock::now(); }
  int64_t WallMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

const TimeSource& SystemTime() {
  static const SystemTimeSource system;
  return system;
}

}  // namespace hollerith
