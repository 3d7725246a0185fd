#include "common/runner/confined_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#include "common/spec/workspace_path.h"

namespace hollerith {

namespace {

// Whether openat2 may be tried (false after ENOSYS: an older kernel, or a seccomp filter).
std::atomic<bool> g_openat2{true};

Status PathError(std::string_view relative, int err) {
  const std::string shown = "'" + std::string(relative) + "'";
  if (err == ELOOP || err == EXDEV) {
    return Status::Error(shown +
                         " is a symbolic link or lies under one (links are not followed: paths "
                         "must stay inside the workspace)");
  }
  return Status::Error(shown + ": " + ErrnoText(err));
}

int Openat2(int root, const char* path, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags);
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root, path, &how, sizeof how));
}

// Walks `relative` from `root` one component at a time, none followed if it is a link.
int Walk(int root, std::string_view relative, int flags, mode_t mode) {
  int dir = root;
  UniqueFd held;
  size_t start = 0;
  while (true) {
    const size_t slash = relative.find('/', start);
    const std::string part(relative.substr(start, slash - start));
    if (slash == std::string_view::npos) return ::openat(dir, part.c_str(), flags, mode);
    int next = ::openat(dir, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      // A link where a directory should be reads ENOTDIR with O_DIRECTORY | O_NOFOLLOW.
      if (errno == ENOTDIR) {
        struct stat st;
        if (::fstatat(dir, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
          errno = ELOOP;
        }
      }
      return -1;
    }
    held = UniqueFd(next);
    dir = next;
    start = slash + 1;
  }
}

int Open(int root, std::string_view relative, int flags, mode_t mode, ResolveMethod method) {
  flags |= O_NOFOLLOW | O_CLOEXEC;
  if (method == ResolveMethod::kAuto && g_openat2.load(std::memory_order_relaxed)) {
    const std::string path(relative);
    int fd = Openat2(root, path.c_str(), flags, mode);
    if (fd >= 0 || errno != ENOSYS) return fd;
    g_openat2.store(false, std::memory_order_relaxed);
  }
  return Walk(root, relative, flags, mode);
}

}  // namespace

Result<UniqueFd> OpenDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::Error("cannot open " + dir.string() + ": " + ErrnoText(errno));
  return UniqueFd(fd);
}

Result<UniqueFd> OpenBeneath(int root, std::string_view relative, int flags, mode_t mode,
                             ResolveMethod method) {
  if (const char* problem = WorkspacePathProblem(relative)) {
    return Status::Error("'" + std::string(relative) + "': the path " + problem);
  }
  int fd = Open(root, relative, flags, mode, method);
  if (fd < 0) {
    const int err = errno;
    Status failure = PathError(relative, err);
    errno = err;  // callers may tell EEXIST (O_EXCL) from the rest
    return failure;
  }
  return UniqueFd(fd);
}

Result<UniqueFd> OpenParentBeneath(int root, std::string_view relative, std::string* leaf,
                                   const std::optional<FileOwner>& owner, ResolveMethod method) {
  if (const char* problem = WorkspacePathProblem(relative)) {
    return Status::Error("'" + std::string(relative) + "': the path " + problem);
  }
  const size_t last = relative.rfind('/');
  *leaf = std::string(last == std::string_view::npos ? relative : relative.substr(last + 1));
  int dup = ::fcntl(root, F_DUPFD_CLOEXEC, 3);
  if (dup < 0) return Status::Error("cannot duplicate a descriptor: " + ErrnoText(errno));
  UniqueFd dir(dup);
  if (last == std::string_view::npos) return dir;
  // Each directory on the way: made if missing (the walk below then refuses a link in its place).
  size_t start = 0;
  while (start <= last) {
    const size_t slash = relative.find('/', start);
    const std::string part(relative.substr(start, slash - start));
    if (::mkdirat(dir.get(), part.c_str(), 0755) == 0) {
      if (owner)
        (void)::fchownat(dir.get(), part.c_str(), owner->uid, owner->gid, AT_SYMLINK_NOFOLLOW);
    } else if (errno != EEXIST) {
      return PathError(relative.substr(0, slash), errno);
    }
    const int next = Open(dir.get(), part, O_RDONLY | O_DIRECTORY, 0, method);
    if (next < 0) return PathError(relative.substr(0, slash), errno);
    dir = UniqueFd(next);
    start = slash + 1;
  }
  return dir;
}

Result<UniqueFd> OpenOutputBeneath(int root, std::string_view relative,
                                   const std::optional<FileOwner>& owner, ResolveMethod method) {
  Result<UniqueFd> fd = OpenBeneath(root, relative, O_RDONLY | O_NONBLOCK, 0, method);
  if (!fd.ok()) return fd;
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return PathError(relative, errno);
  if (!S_ISREG(st.st_mode)) {
    errno = EINVAL;
    return Status::Error("'" + std::string(relative) + "' is not a regular file");
  }
  if (owner && st.st_uid != owner->uid) {
    errno = EPERM;
    return Status::Error("'" + std::string(relative) + "' belongs to uid " +
                         std::to_string(st.st_uid) + ", not to the card's user");
  }
  return fd;
}

std::filesystem::path FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace hollerith
