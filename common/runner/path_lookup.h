// Finds the file execvp would run for a bare program name, so a card can be started with
// posix_spawn on that path: execvp tries every PATH entry in the child (9 failed execve calls for
// `true` with Debian's PATH), and with vfork semantics the daemon waits for all of them, per card.
// Results are cached per (PATH, name). Only absolute PATH entries are searched: with an empty or
// relative entry the answer depends on the card's working directory, and the caller falls back to
// execvp.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace hollerith {

class PathLookup {
 public:
  // The executable regular file `name` resolves to under `path` (a PATH value; null means unset:
  // "/bin:/usr/bin" as glibc uses); nullopt when not found or not resolvable here.
  std::optional<std::string> Find(const std::string& name, const char* path);
  // Forget `name` (e.g. after the cached file vanished).
  void Forget(const std::string& name, const char* path);

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::string> cache_;  // (PATH, name) -> file
};

// The PATH value in a null-terminated environment block; null if it has none.
const char* PathOf(char* const* envp);

}  // namespace hollerith
