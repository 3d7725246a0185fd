// A fresh temporary directory for a test, removed with everything in it by the destructor.
#pragma once

#include <string>

namespace hollerith::testing {

class TempDir {
 public:
  // Made under `base` (the simulator's under /dev/shm: it makes and removes many workspaces).
  explicit TempDir(const std::string& base = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name; returns that file's path.
  std::string Write(const std::string& name, const std::string& content) const;
  // Makes path()/name a directory anyone may write (cards may run as another user than the
  // test, as in CI under root) and returns its path.
  std::string SharedDir(const std::string& name) const;

 private:
  std::string path_;
};

// The whole content of the file at `path` ("" when it cannot be read).
std::string ReadAll(const std::string& path);

}  // namespace hollerith::testing
