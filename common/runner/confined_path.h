// Files inside a card's workspace, opened so that nothing the card left there can point the node
// elsewhere. A card may plant a symbolic link where it declared an output (to /etc/shadow, say),
// or turn a directory on the way to an input into a link; the node (often more privileged than
// the card) must then refuse instead of reading or writing through it.
//
// Paths are clean workspace-relative paths (spec/workspace_path.h, checked again here). They are
// resolved beneath the workspace's directory with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
// where the kernel has it (Linux 5.6+), else by walking the components one by one with
// O_NOFOLLOW: either way no symbolic link is followed anywhere on the path, and '..' cannot occur.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/runner/unique_fd.h"

namespace hollerith {

// Who should own what the node creates in a workspace (the user cards run as); none: leave it.
struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// How paths are resolved: the kernel's openat2 when it has it, else (or when forced, for tests)
// the component walk.
enum class ResolveMethod { kAuto, kWalk };

// The directory `dir` itself, not following a link if it is one.
Result<UniqueFd> OpenDirectory(const std::filesystem::path& dir);

// Opens `relative` beneath the directory `root` with `flags` (O_NOFOLLOW and O_CLOEXEC added;
// `mode` when O_CREAT). A symbolic link anywhere on the path fails with a message that says so;
// errno is left as the failed open set it.
Result<UniqueFd> OpenBeneath(int root, std::string_view relative, int flags, mode_t mode = 0,
                             ResolveMethod method = ResolveMethod::kAuto);

// Opens the directory that holds `relative`'s last component, creating missing directories on
// the way (0755, given to `owner`); `leaf` receives that last component.
Result<UniqueFd> OpenParentBeneath(int root, std::string_view relative, std::string* leaf,
                                   const std::optional<FileOwner>& owner,
                                   ResolveMethod method = ResolveMethod::kAuto);

// Opens a card's declared output for reading: a regular file inside the workspace, reached
// without following links (a FIFO or device is refused too, without blocking on it). With an
// `owner` (cards run as another user than the node), the file must belong to that user: a hard
// link to someone else's file (where the kernel allows making one) is refused too.
Result<UniqueFd> OpenOutputBeneath(int root, std::string_view relative,
                                   const std::optional<FileOwner>& owner = std::nullopt,
                                   ResolveMethod method = ResolveMethod::kAuto);

// A path naming the open file or directory `fd` (/proc/self/fd/N): opening it reaches exactly
// that inode, whatever happens to the names in the workspace meanwhile.
std::filesystem::path FdPath(int fd);

}  // namespace hollerith
