#include "common/runner/workspace_pool.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <utility>

namespace hollerith {

namespace fs = std::filesystem;

WorkspacePool::WorkspacePool(fs::path root, size_t max_spares, std::optional<FileOwner> owner)
    : root_(std::move(root)), max_spares_(max_spares), owner_(owner) {}

Status WorkspacePool::Create(const fs::path& dir) {
  Status made = CreateDirectory(dir);
  if (made.ok() && owner_ && ::lchown(dir.c_str(), owner_->uid, owner_->gid) != 0) {
    return Status::Error("cannot give workspace " + dir.string() + " to uid " +
                         std::to_string(owner_->uid) + ": " + ErrnoText(errno));
  }
  return made;
}

Status WorkspacePool::CreateDirectory(const fs::path& dir) {
  fs::path spare;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spares_.empty()) {
      spare = std::move(spares_.back());
      spares_.pop_back();
    }
  }
  std::error_code ec;
  if (!spare.empty()) {
    if (std::rename(spare.c_str(), dir.c_str()) == 0) return Status::Ok();
    if (errno == ENOENT) {  // the stack's parent (its job's directory) is new
      fs::create_directories(dir.parent_path(), ec);
      if (!ec && std::rename(spare.c_str(), dir.c_str()) == 0) return Status::Ok();
    }
    fs::remove(spare, ec);
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::Error("cannot create workspace " + dir.string() + ": " + ec.message());
  return Status::Ok();
}

void WorkspacePool::Retire(const fs::path& dir) {
  std::error_code ec;
  fs::path spare;
  if (fs::is_empty(dir, ec) && !ec) {
    std::lock_guard<std::mutex> lock(mu_);
    if (spares_.size() < max_spares_) spare = root_ / ".spare" / std::to_string(next_spare_++);
  }
  if (!spare.empty()) {
    if (std::rename(dir.c_str(), spare.c_str()) != 0 && errno == ENOENT) {
      fs::create_directories(spare.parent_path(), ec);
      if (ec || std::rename(dir.c_str(), spare.c_str()) != 0) spare.clear();
    }
    if (!spare.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      spares_.push_back(std::move(spare));
      return;
    }
  }
  fs::remove_all(dir, ec);
}

size_t WorkspacePool::spares() {
  std::lock_guard<std::mutex> lock(mu_);
  return spares_.size();
}

}  // namespace hollerith
