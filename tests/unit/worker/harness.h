// Runs a Worker on its own io_context thread for tests, with a temporary work dir and no signal
// handling, and reports its exit code.
#pragma once

#include <stdlib.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "worker/worker.h"

namespace hollerith::testing {

inline std::filesystem::path MakeTempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

inline worker::WorkerOptions TestWorkerOptions(const std::string& coordinator,
                                               const std::string& token) {
  worker::WorkerOptions o;
  o.coordinator = coordinator;
  o.name = "w1";
  o.labels = {{"zone", "eu"}};
  o.slots = 2;
  o.work_dir = MakeTempDir("worker-test");
  o.token = token;
  o.handle_signals = false;
  o.drain_timeout = std::chrono::seconds(10);
  return o;
}

class WorkerHarness {
 public:
  explicit WorkerHarness(worker::WorkerOptions options)
      : work_dir_(options.work_dir),
        worker_(std::make_unique<worker::Worker>(io_, std::move(options))) {}

  ~WorkerHarness() {
    if (thread_.joinable()) {
      asio::post(io_, [this] { worker_->Stop(0); });
      thread_.join();
    }
    worker_.reset();
    std::error_code ec;
    std::filesystem::remove_all(work_dir_, ec);
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

  // The exit code, once the worker stopped on its own within `timeout`.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (exit_future_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return exit_future_.get();
  }

  worker::Worker& worker() { return *worker_; }
  const std::filesystem::path& work_dir() const { return work_dir_; }

 private:
  asio::io_context io_;
  std::filesystem::path work_dir_;
  std::unique_ptr<worker::Worker> worker_;
  std::promise<int> exit_;
  std::future<int> exit_future_ = exit_.get_future();
  std::thread thread_;
};

}  // namespace hollerith::testing
