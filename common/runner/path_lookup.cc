#include "common/runner/path_lookup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

namespace hollerith {

namespace {

constexpr const char* kDefaultPath = "/bin:/usr/bin";

bool IsExecutableFile(const std::string& file) {
  struct stat st;
  return ::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(file.c_str(), X_OK) == 0;
}

}  // namespace

std::optional<std::string> PathLookup::Find(const std::string& name, const char* path) {
  if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
  const std::string dirs = path ? path : kDefaultPath;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cache_.find({dirs, name}); it != cache_.end()) return it->second;
  }
  std::string_view rest = dirs;
  while (true) {
    const size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    if (dir.empty() || dir.front() != '/') return std::nullopt;  // relative to the card's cwd
    std::string file(dir);
    if (file.back() != '/') file += '/';
    file += name;
    if (IsExecutableFile(file)) {
      std::lock_guard<std::mutex> lock(mu_);
      cache_[{dirs, name}] = file;
      return file;
    }
    if (colon == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(colon + 1);
  }
}

void PathLookup::Forget(const std::string& name, const char* path) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase({path ? path : kDefaultPath, name});
}

const char* PathOf(char* const* envp) {
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    if (std::strncmp(*envp, "PATH=", 5) == 0) return *envp + 5;
  }
  return nullptr;
}

}  // namespace hollerith
