// A coordinator on a SQLite store in a temp dir that a test can "crash" (drop it without a flush:
// only what was committed survives) and start again on the same data, on simulated time.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "coordinator/sqlite_job_store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/coordinator/harness.h"

namespace hollerith::coordinator {

class RestartFixture : public ::testing::Test {
 protected:
  std::unique_ptr<GroupCommitStore> OpenStore() {
    auto store = OpenSqliteStore(dir_.path() + "/jobs.db", SyncMode::kNormal);
    EXPECT_TRUE(store.ok()) << store.message();
    return std::move(store).value();
  }
  // A first run on a fresh store.
  std::unique_ptr<Harness> First(std::unique_ptr<GroupCommitStore>& store) {
    store = OpenStore();
    auto h = std::make_unique<Harness>(*store, time_);
    h->coordinator_.Start();
    return h;
  }
  // A second run on the same data dir, rebuilt from what the first committed.
  std::unique_ptr<Harness> Restart(std::unique_ptr<GroupCommitStore>& store) {
    store = OpenStore();
    auto state = store->Load();
    EXPECT_TRUE(state.ok()) << state.message();
    auto h = std::make_unique<Harness>(*store, time_);
    h->coordinator_.Recover(*state, SpecLimits{});
    h->coordinator_.Start();
    return h;
  }
  static std::string TraceOf(Harness& h, const std::string& job) {
    std::string json;
    h.Owned([&] { EXPECT_TRUE(h.coordinator_.RenderTrace(job, &json).ok()); });
    return json;
  }

  testing::TempDir dir_;
  SimulatedTime time_;
};

}  // namespace hollerith::coordinator
