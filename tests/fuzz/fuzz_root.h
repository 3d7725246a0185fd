// A fuzz target's own temporary directory, made once per process (libFuzzer runs many inputs in
// one process; each input works in a subdirectory and removes it).
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace hollerith::fuzz {

inline const std::filesystem::path& Root() {
  static const std::filesystem::path root = [] {
    std::string t = (std::filesystem::temp_directory_path() / "hollerith-fuzz-XXXXXX").string();
    if (!mkdtemp(t.data())) std::abort();
    return std::filesystem::path(t);
  }();
  return root;
}

}  // namespace hollerith::fuzz
