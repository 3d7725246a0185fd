// The simulated workers of hollerith-load (bench/load_generator.cc): many worker sessions in one
// process, all owned by one io_context thread. Each speaks the real protocol through the worker
// library's `Session` (its own gRPC channel by default, so its own TCP connection) and runs the
// stacks it is given in a real `StackHost`, so card events carry the Lamport and vector clocks a
// worker daemon would send and the job's trace verifies. Cards never run a process: a
// `GateExecutor` holds the cards whose id is `kHeldCard` until the fleet opens the gate, and
// completes every other card at once.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/artifacts/access.h"
#include "common/base/asio_timers.h"
#include "common/core/clock.h"
#include "common/runner/resource_pool.h"
#include "common/runner/stack_host.h"
#include "common/runner/workspace_pool.h"
#include "hollerith.grpc.pb.h"
#include "tests/support/fake_executor.h"
#include "worker/session.h"

namespace hollerith::load {

using SteadyClock = std::chrono::steady_clock;

// The id of the cards held until the gate opens (the first card of each producer stack).
inline constexpr const char* kHeldCard = "a";

// FakeExecutor's bookkeeping, plus the gate: held cards complete (succeeded) once it opens, paced
// by `Open`'s caller; every other card completes as soon as it starts.
class GateExecutor : public testing::FakeExecutor {
 public:
  using FakeExecutor::FakeExecutor;
  uint64_t Run(const CardSpec& card, const CardLaunch& launch, Done done) override;
  void Open() { open_ = true; }
  bool open() const { return open_; }
  // Completes up to `max` held cards; returns how many.
  size_t CompleteHeld(size_t max);

 private:
  bool open_ = false;
};

// The cards are built-ins without inputs or outputs: nothing is ever fetched or published.
class NoArtifacts : public ArtifactAccess {
 public:
  explicit NoArtifacts(asio::io_context& io) : io_(io) {}
  void Publish(const std::filesystem::path& file,
               std::function<void(Result<std::string>)> done) override;
  void Fetch(const std::string& digest, const std::filesystem::path& dest,
             std::function<void(Status)> done) override;

 private:
  asio::io_context& io_;
};

// What every simulated worker shares: the loop, the executor and the pools (built-in cards hold no
// resources and make no workspace), and the figures. Loop thread only, except the atomics, which
// the main thread reads for progress.
struct Fleet {
  Fleet(asio::io_context& loop, const std::filesystem::path& work_root);

  asio::io_context& io;
  std::filesystem::path work_root;
  AsioTimerFactory timers;
  GateExecutor executor;
  NoArtifacts artifacts;
  ResourcePool resources;
  WorkspacePool workspaces;
  std::string token;
  size_t expected_stacks = 0;  // on_all_assigned runs when this many are assigned
  std::function<void()> on_all_assigned;

  std::atomic<size_t> welcomed{0};
  std::atomic<size_t> lost{0};  // sessions that ended while nobody asked them to
  std::atomic<size_t> assigned{0};
  std::atomic<size_t> started{0};
  std::atomic<size_t> finished{0};
  std::atomic<size_t> releases{0};
  std::atomic<bool> stopping{false};
  SteadyClock::time_point last_assignment;
  std::vector<std::string> lost_reasons;  // the first few, for the report
  // When each stack's card finish left in a WorkerMessage (by stack index; one card per stack).
  std::unordered_map<uint32_t, SteadyClock::time_point> finish_sent;
  std::vector<double> release_us;  // a producer's finish sent -> its release received
};

class LoadWorker {
 public:
  LoadWorker(Fleet& fleet, std::string name, std::shared_ptr<grpc::Channel> channel);
  LoadWorker(const LoadWorker&) = delete;
  LoadWorker& operator=(const LoadWorker&) = delete;

  // Loop thread: sends the hello; `capacity` is what the worker says it has.
  void Connect(const Resources& capacity);
  // Loop thread: ends the session (not counted as lost).
  void Stop();
  // Any thread, once the loop has stopped or Stop ran: waits for the stream to be over.
  bool WaitDone(std::chrono::milliseconds timeout);

 private:
  void OnMessage(const v1::CoordinatorMessage& msg);
  void OnDone(const grpc::Status& status);
  void ArmHeartbeat(std::chrono::milliseconds delay);
  void ScheduleFlush();
  void Flush();

  Fleet& fleet_;
  std::string name_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  LamportClock clock_;
  std::unique_ptr<StackHost> host_;
  std::shared_ptr<worker::Session> session_;
  asio::steady_timer heartbeat_timer_;
  std::chrono::milliseconds heartbeat_{1000};
  uint64_t epoch_ = 0;
  bool welcomed_ = false;
  bool stopped_ = false;
  bool session_done_ = false;
  uint32_t running_cards_ = 0;
  v1::WorkerMessage batch_;
  std::vector<uint32_t> finishes_in_batch_;  // stack indexes
  bool flush_posted_ = false;
};

}  // namespace hollerith::load
