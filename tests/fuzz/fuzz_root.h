// A fuzz target's own temporary directory, made once per process (libFuzzer runs many inputs in
// one process; each input works in a subdirectory and removes it) and removed at its exit.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace hollerith::fuzz {

// Removed when the process exits (the inputs' subdirectories are gone by then).
inline const std::filesystem::path& Root() {
  struct Dir {
    std::filesystem::path path;
    Dir() {
      std::string t = (std::filesystem::temp_directory_path() / "hollerith-fuzz-XXXXXX").string();
      if (!mkdtemp(t.data())) std::abort();
      path = t;
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir root;
  return root.path;
}

}  // namespace hollerith::fuzz
