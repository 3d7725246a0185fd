#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace hollerith::testing {

TempDir::TempDir(const std::string& base) {
  std::string pattern = base + "/hollerith-test-XXXXXX";
  char* path = pattern.data();
  if (!mkdtemp(path)) throw std::runtime_error("mkdtemp under " + base);
  // Searchable by everyone: a daemon started as root (as in CI) runs cards as another user, and
  // tests' cards read files the test made here (writing needs a directory of its own, 0777).
  std::filesystem::permissions(path, std::filesystem::perms::owner_all |
                                         std::filesystem::perms::group_exec |
                                         std::filesystem::perms::others_exec);
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

std::string TempDir::SharedDir(const std::string& name) const {
  std::string p = path_ + "/" + name;
  std::filesystem::create_directory(p);
  std::filesystem::permissions(p, std::filesystem::perms::all);
  return p;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace hollerith::testing
