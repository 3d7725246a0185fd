// Checkpoints an SQLite database in WAL mode on a thread of its own, so that no commit waits for
// one. SQLite's automatic checkpoint runs inside the commit that takes the WAL past
// wal_autocheckpoint pages: that write, and whoever waits for it (a submission's Accept, a job's
// end), also waits for the WAL to be copied into the database and fsynced (1-3 ms here, most of
// the serial benchmark's p99). The checkpointer replaces it: the writer's connection reports each
// commit (its wal_hook, which also turns the automatic checkpoint off), and past `pages` WAL pages
// the checkpointer's own connection runs a PASSIVE checkpoint, beside the next commits. Should it
// fall behind to `max_pages`, the committing connection checkpoints itself, so the WAL stays
// bounded either way. Durability is SQLite's as before: a PASSIVE checkpoint is the one the
// automatic checkpoint runs, and a commit's own sync (synchronous=FULL) is untouched.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/base/status.h"

namespace hollerith::coordinator {

class WalCheckpointer {
 public:
  static constexpr int kPages = 1000;  // SQLite's own wal_autocheckpoint default
  static constexpr int kMaxPages = 16 * kPages;

  // Opens a second connection to `path` (the database `writer` has open, in WAL mode) and hooks
  // `writer`'s commits. `writer` must outlive the checkpointer.
  static Result<std::unique_ptr<WalCheckpointer>> Start(const std::string& path, sqlite3* writer,
                                                        int pages = kPages,
                                                        int max_pages = kMaxPages);
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;
  // Unhooks the writer and stops the thread (a checkpoint under way finishes first).
  ~WalCheckpointer();

  uint64_t checkpoints() const { return checkpoints_.load(); }  // run by its thread
  // Waits until its thread has caught up: no checkpoint wanted or under way. False if `timeout`
  // passed first.
  bool WaitIdle(std::chrono::milliseconds timeout);
  int wal_pages() const { return wal_pages_.load(); }  // after the last commit

 private:
  WalCheckpointer(sqlite3* own, sqlite3* writer, int pages, int max_pages);
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages);
  void Loop();

  sqlite3* own_;
  sqlite3* writer_;
  const int pages_;
  const int max_pages_;
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<int> wal_pages_{0};
  std::mutex mu_;
  std::condition_variable cv_;       // wakes the thread
  std::condition_variable done_cv_;  // the thread has nothing more to do
  bool wanted_ = false;
  bool running_ = false;  // a checkpoint is under way
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is set
};

}  // namespace hollerith::coordinator
