// The worker daemon's wiring. One io_context thread owns all state: the StackHost (one StackRunner
// per placed stack), the card runner, the slot pool, the Lamport clock, the session. It dials the
// coordinator (hello -> welcome{epoch}), applies what arrives (assignments, releases, retries,
// skips, cancels, in that order), reports card events upward in batches, heartbeats, reconnects
// with backoff after a lost stream (cancelling every local stack: the coordinator re-places them),
// and drains on SIGTERM/SIGINT or when the coordinator asks. Time is injected (TimerFactory): every
// timer of the worker comes from it, so tests drive the lifecycle on SimulatedTime.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "common/base/time_source.h"
#include "common/core/clock.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/runner/card_runner.h"
#include "common/runner/slot_pool.h"
#include "common/runner/stack_host.h"
#include "hollerith.grpc.pb.h"
#include "worker/metrics.h"
#include "worker/options.h"
#include "worker/remote_artifacts.h"
#include "worker/session.h"

namespace hollerith::worker {

// Exit codes of the daemon.
inline constexpr int kExitOk = 0;
// Bad flags, no token, the coordinator refused our hello, or another worker took our name.
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRejected = 3;  // the coordinator rejected our token

// The worker's lifecycle. Worker::Become is the only place that changes it; it logs every
// transition (debug) and treats one the table does not allow as a broken invariant.
//
// clang-format off
// | state         | what the worker does                   | event -> next state                  |
// |---------------|----------------------------------------|--------------------------------------|
// | kIdle         | constructed; Start not called yet      | Start -> kConnecting                 |
// |               |                                        | no work dir, Stop, Drain             |
// |               |                                        |   -> kStopping                       |
// | kConnecting   | stream open, hello sent, welcome timer | welcome -> kConnected                |
// |               | armed; messages before the welcome     | stream ended (the welcome timeout    |
// |               | are ignored                            |   cancels it) -> kBackingOff         |
// |               |                                        | bad token, hello refused, Stop,      |
// |               |                                        |   Drain -> kStopping                 |
// | kConnected    | runs stacks, reports their events in   | stream lost -> kBackingOff           |
// |               | batches, heartbeats every interval     | Drain (signal, coordinator)          |
// |               |                                        |   -> kDraining                       |
// |               |                                        | bad token, name taken, Stop          |
// |               |                                        |   -> kStopping                       |
// | kBackingOff   | no stream; local stacks cancelled;     | reconnect timer -> kConnecting       |
// |               | reconnect timer armed (jittered,       | Stop, Drain -> kStopping             |
// |               | doubling up to kMaxBackoff)            |                                      |
// | kDraining     | declines new stacks, lets running ones | nothing left running, or the         |
// |               | finish, heartbeats; at drain_timeout   |   cancel grace over -> kDrainClosing |
// |               | cancels what still runs                | stream ended, Stop -> kStopping      |
// | kDrainClosing | events flushed, stream half-closed;    | stream ended, close grace over,      |
// |               | waits kCloseGrace for the              |   Stop -> kStopping                  |
// |               | coordinator to end it                  |                                      |
// | kStopping     | stream cancelled, timers off; new      | stream over (or there was none)      |
// |               | stacks declined, messages dropped      |   -> kStopped                        |
// | kStopped      | `exited` posted with the exit code     | (final)                              |
// clang-format on
//
// "Welcomed" (events may be sent) means kConnected, kDraining or kDrainClosing.
enum class WorkerState {
  kIdle,
  kConnecting,
  kConnected,
  kBackingOff,
  kDraining,
  kDrainClosing,
  kStopping,
  kStopped
};
const char* WorkerStateName(WorkerState state);

class Worker {
 public:
  // How long a coordinator may take to answer our hello before we try again.
  static constexpr std::chrono::milliseconds kWelcomeTimeout{30000};
  // Reconnect delays: the first is jittered in [kMinBackoff/2, kMinBackoff], then they double.
  static constexpr std::chrono::milliseconds kMinBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{5000};
  // After a drain half-closes the stream, how long the coordinator has to end it.
  static constexpr std::chrono::milliseconds kCloseGrace{5000};
  // After the drain timeout cancelled the remaining stacks, how long their cards have to die.
  static constexpr std::chrono::milliseconds kCancelGrace{10000};

  // `time` gives the worker its clocks and timers (timers fire on `io`: the daemon passes an
  // AsioTimerFactory on it). `executor`: nullptr runs cards as real processes
  // (ProcessCardRunner); tests may inject one. Both must outlive the Worker.
  Worker(asio::io_context& io, TimerFactory& time, WorkerOptions options,
         CardExecutor* executor = nullptr);
  // Kills running cards and ends the stream if still open. Call with the loop stopped.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The methods below run on the loop thread (or before io.run()).

  // Dials the coordinator. `exited` runs once, on the loop, with the exit code when the worker has
  // stopped for good (drained, rejected, or Stop()); the caller then stops the loop.
  void Start(std::function<void(int exit_code)> exited);
  // Graceful stop: decline new stacks, let running ones finish (bounded by drain_timeout), flush
  // every event, close the stream, exit 0.
  void Drain(const std::string& why);
  // Immediate stop: drop the stream; running cards are killed when the Worker is destroyed.
  void Stop(int exit_code);

  // For tests and logs.
  bool connected() const { return session_ != nullptr && Welcomed(); }
  WorkerState state() const { return state_; }
  // Called on the loop after every transition (tests wait on these instead of sleeping).
  void set_state_listener(std::function<void(WorkerState)> listener) {
    state_listener_ = std::move(listener);
  }
  uint64_t epoch() const { return epoch_; }
  size_t active_stacks() const { return host_->active_stacks(); }
  const LamportClock& clock() const { return clock_; }
  // Where the metrics are served (nullptr without --metrics-listen, or before Start).
  const MetricsEndpoint* metrics_endpoint() const { return metrics_endpoint_.get(); }

 private:
  // A stack placed on this node in one session; `generation` tells sessions apart, so events of
  // stacks from a lost session are never reported on the next one.
  using PlacedKey = std::tuple<std::string, uint32_t, uint32_t>;  // job, stack, attempt
  struct Placed {
    uint64_t generation = 0;
    bool running = false;  // a card of it is running now
  };
  struct Deferred {
    uint64_t generation = 0;
    v1::Assignment assignment;
  };

  // The one place the lifecycle state changes; `why` goes into the debug log.
  void Become(WorkerState next, std::string_view why);
  bool Welcomed() const {
    return state_ == WorkerState::kConnected || state_ == WorkerState::kDraining ||
           state_ == WorkerState::kDrainClosing;
  }

  void Connect();
  void ScheduleReconnect();
  void OnSessionMessage(uint64_t generation, const v1::CoordinatorMessage& msg);
  void OnSessionDone(uint64_t generation, const grpc::Status& status);
  void OnWelcome(const v1::Welcome& welcome);
  void ApplyAssignment(const v1::Assignment& a);
  void RejectAssignment(const v1::Assignment& a, const std::string& why);
  void CancelAllStacks(const std::string& why);

  void OnCardStarted(const std::string& job, const CardStartedMsg& m);
  void OnCardFinished(const std::string& job, const CardFinishedMsg& m);
  void OnStackEnded(const std::string& job, uint32_t stack, uint32_t attempt,
                    const std::filesystem::path& workspace);
  // Live output: forwarded only for stacks the coordinator watches (someone follows them).
  void OnCardOutput(const std::string& job, const CardOutputPiece& piece);
  void OnOutputWatch(const v1::OutputWatch& watch);
  void AddOutput(const std::string& job, const CardOutputPiece& piece);
  // Queues the upload of a finished card's spill files (its whole output); returns how many.
  uint32_t UploadFullOutput(const std::string& job, const CardFinishedMsg& m);
  Placed* FindCurrent(const std::string& job, uint32_t stack, uint32_t attempt);
  void RemoveWorkspace(const std::filesystem::path& workspace);

  void ArmHeartbeat();
  void QueueHeartbeat();
  void ScheduleFlush();
  // For events nobody waits on (a card started while others run): they ride along with the next
  // flush, or leave after kStartedLinger. Halves the messages of a busy worker; a finish is never
  // delayed.
  void ScheduleLateFlush();
  static constexpr std::chrono::milliseconds kStartedLinger{2};
  void Flush();

  void CheckDrained();
  void FinishDrain();
  void Finalize();
  void WatchSignals();
  // Serves the metrics on options_.metrics_listen; false (logged) if it cannot.
  bool StartMetrics();
  void RefreshMetrics();

  asio::io_context& io_;
  TimerFactory& time_;
  // Keeps io.run() going while the worker waits on gRPC alone (nothing of asio's pending).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running_;
  WorkerOptions options_;
  LamportClock clock_;
  std::unique_ptr<ProcessCardRunner> own_executor_;
  CardExecutor* executor_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  RemoteArtifacts artifacts_;
  SlotPool slots_;
  WorkspacePool workspaces_;
  std::unique_ptr<StackHost> host_;
  // Removes finished workspaces off the loop; destroyed (queued removals dropped, the running one
  // waited for) before the workspace pool it uses.
  asio::thread_pool housekeeping_{1};

  std::shared_ptr<Session> session_;
  uint64_t generation_ = 0;
  WorkerState state_ = WorkerState::kIdle;
  std::function<void(WorkerState)> state_listener_;
  uint64_t epoch_ = 0;
  std::chrono::milliseconds heartbeat_{1000};
  std::chrono::milliseconds next_backoff_{100};
  std::minstd_rand rng_{std::random_device{}()};

  std::map<PlacedKey, Placed> placed_;
  // Assignments waiting for a cancelled run of the same stack (same or newer attempt) to wind down.
  std::map<std::pair<std::string, uint32_t>, Deferred> deferred_;
  size_t running_cards_ = 0;
  // Stacks whose running cards' output is sent as they write it (the coordinator's watches).
  std::set<std::pair<std::string, uint32_t>> watched_;
  size_t batch_output_bytes_ = 0;  // live output in batch_: bounded, the excess is dropped
  v1::WorkerMessage batch_;        // events waiting for the next flush
  bool flush_posted_ = false;
  bool linger_armed_ = false;
  bool late_check_posted_ = false;

  std::unique_ptr<Timer> heartbeat_timer_;
  std::unique_ptr<Timer> reconnect_timer_;
  std::unique_ptr<Timer> drain_timer_;  // the drain timeout, then the cancel grace
  std::unique_ptr<Timer> close_timer_;
  std::unique_ptr<Timer> welcome_timer_;
  std::unique_ptr<Timer> linger_timer_;
  int failed_connects_ = 0;  // since the last welcome
  asio::signal_set signals_;
  int signals_seen_ = 0;

  int exit_code_ = kExitOk;
  std::function<void(int)> exited_;

  // Last: the endpoint's scrapes read the slots on the loop, so it stops before anything goes.
  std::unique_ptr<WorkerMetrics> metrics_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
};

}  // namespace hollerith::worker
