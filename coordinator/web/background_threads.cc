#include "coordinator/web/background_threads.h"

namespace hollerith::web {

void BackgroundThreads::Run(std::function<void()> f) {
  std::lock_guard lock(mu_);
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  threads_.push_back({std::thread([f = std::move(f), done] {
                        f();
                        done->store(true);
                      }),
                      done});
}

void BackgroundThreads::JoinAll() {
  std::list<Entry> all;
  {
    std::lock_guard lock(mu_);
    all.swap(threads_);
  }
  for (Entry& e : all) e.thread.join();
}

}  // namespace hollerith::web
