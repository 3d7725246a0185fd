// Workspace directories, recycled. Creating a directory and removing it costs ~100 µs + ~55 µs
// on ext4 here (an inode and a block allocated, then freed and discarded); renaming an empty one
// into place costs ~10 µs. A node running thousands of one-card stacks spends more on that than on
// spawning the cards, so empty workspaces of ended stacks are kept (up to a bound) under
// <root>/.spare/ and renamed to the next stack's path. A workspace a card left files in is removed,
// never reused: a stack always starts in an empty directory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include "common/base/status.h"
#include "common/runner/confined_path.h"

namespace hollerith {

class WorkspacePool {
 public:
  // Spares live in `root`/.spare; `root` is the directory workspaces are created under.
  // Workspaces are given to `owner` (the user cards run as) when there is one.
  explicit WorkspacePool(std::filesystem::path root, size_t max_spares = 64,
                         std::optional<FileOwner> owner = std::nullopt);

  // Creates the empty directory `dir` (and its parents), from a spare when there is one.
  Status Create(const std::filesystem::path& dir);
  // Gives back the workspace of an ended stack: kept as a spare if empty and there is room,
  // removed (with everything in it) otherwise. Blocking; thread-safe.
  void Retire(const std::filesystem::path& dir);

  size_t spares();
  const std::optional<FileOwner>& owner() const { return owner_; }

 private:
  Status CreateDirectory(const std::filesystem::path& dir);

  std::filesystem::path root_;
  size_t max_spares_;
  std::optional<FileOwner> owner_;
  std::mutex mu_;
  std::vector<std::filesystem::path> spares_;
  size_t next_spare_ = 0;
};

}  // namespace hollerith
