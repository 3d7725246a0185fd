#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace hollerith::testing {

TempDir::TempDir() {
  char path[] = "/tmp/hollerith-test-XXXXXX";
  if (!mkdtemp(path)) throw std::runtime_error("mkdtemp");
  path_ = path;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p) << content;
  return p;
}

}  // namespace hollerith::testing
