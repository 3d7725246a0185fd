// The worker daemon's wiring. One io_context thread owns all state: the StackHost (one StackRunner
// per placed stack), the card runner, the resource pool, the Lamport clock, the session. It dials
// the coordinator (hello -> welcome{epoch}), applies what arrives (drops, assignments, releases,
// retries, skips, cancels, in that order), reports card events upward in batches, heartbeats,
// reconnects with jittered backoff after a lost stream, and drains on SIGTERM/SIGINT or when the
// coordinator asks. Time is injected (TimerFactory): every timer of the worker comes from it, so
// tests drive the lifecycle on SimulatedTime.
//
// Outages: when a welcomed stream is lost (a coordinator restart, a partition) the worker keeps
// its running stacks for the outage grace (--outage-grace-ms; default three of the coordinator's
// leases) and buffers their card events (up to kOutageBufferBytes). Its next hello claims every
// stack it holds and replays the events the coordinator may not have recorded: those buffered and
// those sent in the last kResendWindow (a coordinator that crashed may not have committed them).
// The coordinator keeps each claim it agrees with running under its attempt and answers the
// others with a Drop, which cancels that stack here. When the grace ends first, the stacks are
// cancelled, as before (the coordinator re-places them).
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/thread_pool.hpp>
#include <chrono>
#include <deque>
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
#include "common/runner/resource_pool.h"
#include "common/runner/stack_host.h"
#include "hollerith.grpc.pb.h"
#include "proto/rpc_leader.h"
#include "worker/coordinator_stream.h"
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
// | kConnecting   | stream open, hello (with the claims of | welcome -> kConnected                |
// |               | held stacks) sent, welcome timer       | stream ended (the welcome timeout    |
// |               | armed; messages before the welcome     |   cancels it) -> kBackingOff         |
// |               | are ignored                            |                                      |
// |               |                                        | bad token, hello refused, Stop,      |
// |               |                                        |   Drain -> kStopping                 |
// | kConnected    | runs stacks, reports their events in   | stream lost -> kBackingOff           |
// |               | batches, heartbeats every interval     | Drain (signal, coordinator)          |
// |               |                                        |   -> kDraining                       |
// |               |                                        | bad token, name taken, Stop          |
// |               |                                        |   -> kStopping                       |
// | kBackingOff   | no stream; local stacks kept ("held")  | reconnect timer -> kConnecting       |
// |               | until the outage grace ends, then      | Stop, Drain -> kStopping             |
// |               | cancelled; reconnect timer armed       |                                      |
// |               | (jittered, doubling up to kMaxBackoff, |                                      |
// |               | a quarter lease while holding stacks)  |                                      |
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
  // Card events sent this recently are replayed in the next hello after a lost stream: the
  // coordinator group-commits within milliseconds, so older ones are surely recorded.
  static constexpr std::chrono::milliseconds kResendWindow{2000};
  // Card events buffered during an outage; past this the held stacks are cancelled.
  static constexpr size_t kOutageBufferBytes = size_t{64} << 20;

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
  // For the seeded simulator (tests/sim/): streams come from `opener` instead of gRPC, and the
  // reconnect jitter from `seed`, so that one seed gives one run. Call before Start.
  void UseStreams(StreamOpener opener, uint64_t seed) {
    opener_ = std::move(opener);
    rng_.seed(static_cast<std::minstd_rand::result_type>(seed % 2147483646 + 1));
  }
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
  // Stacks kept through an outage of the coordinator (until it is back or the grace ends).
  bool holding() const { return holding_; }
  const LamportClock& clock() const { return clock_; }
  // Where the metrics are served (nullptr without --metrics-listen, or before Start).
  const MetricsEndpoint* metrics_endpoint() const { return metrics_endpoint_.get(); }

 private:
  // A stack placed on this node; `generation` is the session that placed it, 0 once it is
  // cancelled (its events are never reported again). A held stack keeps its generation across an
  // outage.
  using PlacedKey = std::tuple<std::string, uint32_t, uint32_t>;  // job, stack, attempt
  struct Placed {
    uint64_t generation = 0;
    bool running = false;                // a card of it is running now
    uint64_t epoch = 0;                  // of the session that placed it
    std::vector<CardRef> released_from;  // the releases it received (claims report them)
  };
  // Card events not known to be recorded by the coordinator: sent within kResendWindow, or
  // produced while it was away (`sent` false, kept until a hello carries them).
  struct Unconfirmed {
    MonotonicTime at;
    bool sent = false;
    // When sent, the very message the stream was given (shared with it until written, so never
    // changed in place: ForgetEvents copies it first); otherwise the worker's alone.
    std::shared_ptr<v1::WorkerMessage> events;
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
  // Outages (see the top of this file).
  std::chrono::milliseconds OutageGrace() const;
  // The stream was lost: keep the stacks (true) if the grace allows; `unsent` were never sent.
  bool HoldStacks(v1::WorkerMessage unsent);
  // Keeps what was sent (or the events produced while away) for the next hello.
  void Remember(std::shared_ptr<v1::WorkerMessage> events, bool sent);
  // Forgets the events sent more than kResendWindow before `now` (surely recorded).
  void ForgetConfirmed(MonotonicTime now);
  // The claims and replayed events of a hello after an outage.
  void AddClaims(v1::Hello* hello) const;
  void ApplyDrop(const v1::Drop& drop);
  // Removes a run's card events from what would be sent or replayed (a claim the coordinator
  // refused).
  void ForgetEvents(const std::string& job, uint32_t stack, uint32_t attempt);

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
  // kWhenWritable holds the batch back while the stream is busy and the worker runs several stacks
  // (it grows until the stream's `writable`, up to kHeldBackEvents or kHeldBackTextBytes of
  // captured output); with one stack nothing would join it, and it leaves at once. kNow queues it
  // behind what is being written.
  enum class FlushMode { kWhenWritable, kNow };
  static constexpr int kHeldBackEvents = 4096;
  static constexpr size_t kHeldBackTextBytes = size_t{4} << 20;
  void Flush(FlushMode mode = FlushMode::kWhenWritable);

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
  // The coordinators of --coordinator (a list when several share a PostgreSQL store), and the
  // one the session talks to (it follows the leader).
  rpc::LeaderFollower coordinators_;
  std::string session_address_;  // whom the current session dialled
  RemoteArtifacts artifacts_;
  ResourcePool resources_;
  WorkspacePool workspaces_;
  std::unique_ptr<StackHost> host_;
  // Removes finished workspaces off the loop; destroyed (queued removals dropped, the running one
  // waited for) before the workspace pool it uses.
  asio::thread_pool housekeeping_{1};

  StreamOpener opener_;  // empty: a gRPC Session with coordinators_
  std::shared_ptr<CoordinatorStream> session_;
  uint64_t generation_ = 0;
  WorkerState state_ = WorkerState::kIdle;
  std::function<void(WorkerState)> state_listener_;
  uint64_t epoch_ = 0;
  std::chrono::milliseconds heartbeat_{1000};
  std::chrono::milliseconds lease_{5000};  // from the welcome
  std::chrono::milliseconds next_backoff_{100};
  std::minstd_rand rng_{std::random_device{}()};

  // By stack, then job, then attempt: a (job, stack)'s attempts stay together in order (the
  // lower_bound walks rely on it), and a lookup among a large job's stacks compares numbers
  // instead of the same job id at every step (memcmp was a fan-out worker's first entry).
  struct PlacedOrder {
    bool operator()(const PlacedKey& a, const PlacedKey& b) const {
      if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
      if (const int c = std::get<0>(a).compare(std::get<0>(b)); c != 0) return c < 0;
      return std::get<2>(a) < std::get<2>(b);
    }
  };
  std::map<PlacedKey, Placed, PlacedOrder> placed_;
  bool holding_ = false;  // stacks kept through an outage
  std::deque<Unconfirmed> unconfirmed_;
  size_t unsent_bytes_ = 0;       // of the unconfirmed events produced while away
  size_t buffered_finishes_ = 0;  // in this outage (the first few are logged)
  size_t in_hello_ = 0;           // unconfirmed_ entries the last hello carried
  // Assignments waiting for a cancelled run of the same stack (same or newer attempt) to wind down.
  std::map<std::pair<std::string, uint32_t>, Deferred> deferred_;
  size_t running_cards_ = 0;
  // Stacks whose running cards' output is sent as they write it (the coordinator's watches).
  std::set<std::pair<std::string, uint32_t>> watched_;
  size_t batch_output_bytes_ = 0;  // live output in batch_: bounded, the excess is dropped
  size_t batch_text_bytes_ = 0;    // the captured output of batch_'s finishes
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
  std::unique_ptr<Timer> grace_timer_;  // the outage grace
  int failed_connects_ = 0;             // since the last welcome
  // Made by WatchSignals only (with handle_signals): without it, the loop needs no reactor, so
  // a simulator's poll of it makes no system call.
  std::optional<asio::signal_set> signals_;
  int signals_seen_ = 0;

  int exit_code_ = kExitOk;
  std::function<void(int)> exited_;

  // Last: the endpoint's scrapes read the resource pool on the loop, so it stops before anything
  // goes.
  std::unique_ptr<WorkerMetrics> metrics_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
};

}  // namespace hollerith::worker
