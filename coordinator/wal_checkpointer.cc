#include "coordinator/wal_checkpointer.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace hollerith::coordinator {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                sqlite3* writer, int pages,
                                                                int max_pages) {
  sqlite3* own = nullptr;
  auto fail = [&](const std::string& why) {
    sqlite3_close(own);
    return Status::Error(StatusCode::kDataLoss,
                         "cannot open the job store " + path + " for checkpoints: " + why);
  };
  const int rc = sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) return fail(own ? sqlite3_errmsg(own) : sqlite3_errstr(rc));
  // A connection learns that the database is in WAL mode when it first reads it; until then a
  // checkpoint does nothing (and says so only by a WAL size of -1).
  if (sqlite3_exec(own, "PRAGMA journal_mode=WAL;", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail(sqlite3_errmsg(own));
  }
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(own, writer, pages, max_pages));
}

WalCheckpointer::WalCheckpointer(sqlite3* own, sqlite3* writer, int pages, int max_pages)
    : own_(own), writer_(writer), pages_(pages), max_pages_(max_pages), thread_([this] {
        Loop();
      }) {
  sqlite3_wal_hook(writer_, &WalCheckpointer::OnCommit, this);  // the automatic checkpoint's place
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  sqlite3_close(own_);
}

int WalCheckpointer::OnCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* c = static_cast<WalCheckpointer*>(self);
  c->wal_pages_.store(pages);
  if (pages >= c->max_pages_) {
    // The thread is far behind: this commit checkpoints, as SQLite's own hook would.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  if (pages < c->pages_) return SQLITE_OK;
  bool wake = false;
  {
    std::lock_guard lock(c->mu_);
    wake = !c->wanted_;
    c->wanted_ = true;
  }
  if (wake) c->cv_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || wanted_; });
    if (stop_) return;
    wanted_ = false;  // commits during the checkpoint ask again for what they added
    running_ = true;
    lock.unlock();
    // PASSIVE: copies what it can without waiting for the writer; once all is copied, the next
    // commit starts the WAL over from its beginning.
    const int rc =
        sqlite3_wal_checkpoint_v2(own_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("job store checkpoint: {}", sqlite3_errmsg(own_));
    }
    checkpoints_.fetch_add(1);
    lock.lock();
    running_ = false;
    if (!wanted_) done_cv_.notify_all();
  }
}

bool WalCheckpointer::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return done_cv_.wait_for(lock, timeout, [&] { return !wanted_ && !running_; });
}

}  // namespace hollerith::coordinator
