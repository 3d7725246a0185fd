// Runs a Worker on its own io_context thread for tests, with a temporary work dir and no signal
// handling, and reports its exit code and every state it went through. Time is real
// (AsioTimerFactory) unless the test passes a SimulatedTime; then only Advance() moves it, called
// on the loop (OnLoop), as the worker's timers live there.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/base/asio_timers.h"
#include "common/base/time_source.h"
#include "tests/support/temp_dir.h"
#include "worker/worker.h"

namespace hollerith::testing {

// Options for a worker under test; the harness sets the work dir.
inline worker::WorkerOptions TestWorkerOptions(const std::string& coordinator,
                                               const std::string& token) {
  worker::WorkerOptions o;
  o.coordinator = coordinator;
  o.name = "w1";
  o.labels = {{"zone", "eu"}};
  o.slots = 2;
  o.token = token;
  o.metrics_password = token;
  o.handle_signals = false;
  o.drain_timeout = std::chrono::seconds(10);
  return o;
}

class WorkerHarness {
 public:
  // `time`: nullptr for real timers on the worker's loop. `time` and `executor` (nullptr: real
  // processes) must outlive the harness.
  explicit WorkerHarness(worker::WorkerOptions options, TimerFactory* time = nullptr,
                         CardExecutor* executor = nullptr)
      : real_time_(io_) {
    options.work_dir = dir_.path();
    worker_ = std::make_unique<worker::Worker>(io_, time ? *time : real_time_, std::move(options),
                                               executor);
    worker_->set_state_listener([this](worker::WorkerState s) {
      std::lock_guard<std::mutex> lock(mu_);
      states_.push_back(s);
      cv_.notify_all();
    });
  }

  ~WorkerHarness() {
    if (thread_.joinable()) {
      asio::post(io_, [this] { worker_->Stop(0); });
      thread_.join();
    }
    worker_.reset();
  }

  void Start() {
    asio::post(io_, [this] {
      worker_->Start([this](int code) {
        exit_.set_value(code);
        io_.stop();
      });
    });
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs `f` on the worker's loop.
  template <typename F>
  void Post(F f) {
    asio::post(io_, std::move(f));
  }

  // Runs `f` on the worker's loop and returns what it returned; nullopt if that took longer than
  // `timeout` (the loop is stuck or stopped).
  template <typename F>
  auto OnLoop(F f, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      -> std::optional<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    asio::post(io_, [promise, f = std::move(f)]() mutable { promise->set_value(f()); });
    if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return future.get();
  }

  // Waits until the worker has entered `state` at least `times` times (counted from its
  // construction); false after `timeout`.
  bool WaitForState(worker::WorkerState state, size_t times = 1,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      size_t n = 0;
      for (auto s : states_) n += s == state ? 1 : 0;
      return n >= times;
    });
  }
  std::vector<worker::WorkerState> states() {
    std::lock_guard<std::mutex> lock(mu_);
    return states_;
  }

  // The exit code, once the worker stopped on its own within `timeout`.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (exit_future_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return exit_future_.get();
  }

  worker::Worker& worker() { return *worker_; }
  asio::io_context& io() { return io_; }
  std::filesystem::path work_dir() const { return dir_.path(); }

 private:
  asio::io_context io_;
  AsioTimerFactory real_time_;
  TempDir dir_;  // outlives the worker, which is destroyed first
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<worker::WorkerState> states_;  // guarded by mu_
  std::unique_ptr<worker::Worker> worker_;
  std::promise<int> exit_;
  std::future<int> exit_future_ = exit_.get_future();
  std::thread thread_;
};

}  // namespace hollerith::testing
