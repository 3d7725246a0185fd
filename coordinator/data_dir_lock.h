// One coordinator per data dir: an exclusive flock on DATA_DIR/coordinator.lock, held for the
// process's life (the kernel drops it when the process dies, also on kill -9).
#pragma once

#include <string>

#include "common/base/status.h"

namespace hollerith::coordinator {

class DataDirLock {
 public:
  // Fails, naming the pid that holds it, when another coordinator uses `data_dir`.
  static Result<DataDirLock> Acquire(const std::string& data_dir);
  DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DataDirLock& operator=(DataDirLock&&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace hollerith::coordinator
