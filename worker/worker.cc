#include "worker/worker.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <asio/post.hpp>
#include <csignal>
#include <cstdio>
#include <future>
#include <initializer_list>
#include <set>
#include <string_view>
#include <system_error>

#include "common/auth/auth_token.h"
#include "common/base/check.h"
#include "common/base/listen_address.h"
#include "common/base/version.h"
#include "common/log/log.h"
#include "common/runner/node_capacity.h"
#include "proto/wire.h"
#include "worker/channel.h"
#include "worker/log_upload.h"

namespace hollerith::worker {
namespace {

namespace fs = std::filesystem;

fs::path JobsRoot(const WorkerOptions& o) { return o.work_dir / "jobs"; }

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    default:
      return "code " + std::to_string(static_cast<int>(code));
  }
}

std::string Describe(const grpc::Status& s) {
  return s.error_message().empty() ? CodeName(s.error_code())
                                   : CodeName(s.error_code()) + ": " + s.error_message();
}

WorkerOptions Sanitized(WorkerOptions o) {
  // In-process tests set --slots' field alone; the daemon's options come resolved.
  if (o.capacity.empty()) o.capacity = DetectedCapacity(o.slots);
  o.slots = WholeCpus(o.capacity);
  if (o.name.empty()) o.name = DefaultWorkerName();
  return o;
}

bool HasEvents(const v1::WorkerMessage& m) {
  return m.has_heartbeat() || m.started_size() > 0 || m.finished_size() > 0 || m.ended_size() > 0 ||
         m.output_size() > 0;
}

// The transitions of the table in worker.h.
bool Allowed(WorkerState from, WorkerState to) {
  using S = WorkerState;
  auto any_of = [to](std::initializer_list<S> states) {
    return std::find(states.begin(), states.end(), to) != states.end();
  };
  switch (from) {
    case S::kIdle:
      return any_of({S::kConnecting, S::kStopping});
    case S::kConnecting:
      return any_of({S::kConnected, S::kBackingOff, S::kStopping});
    case S::kConnected:
      return any_of({S::kBackingOff, S::kDraining, S::kStopping});
    case S::kBackingOff:
      return any_of({S::kConnecting, S::kStopping});
    case S::kDraining:
      return any_of({S::kDrainClosing, S::kStopping});
    case S::kDrainClosing:
      return any_of({S::kStopping});
    case S::kStopping:
      return any_of({S::kStopped});
    case S::kStopped:
      return false;
  }
  return false;
}

}  // namespace

const char* WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kIdle:
      return "idle";
    case WorkerState::kConnecting:
      return "connecting";
    case WorkerState::kConnected:
      return "connected";
    case WorkerState::kBackingOff:
      return "backing off";
    case WorkerState::kDraining:
      return "draining";
    case WorkerState::kDrainClosing:
      return "drain closing";
    case WorkerState::kStopping:
      return "stopping";
    case WorkerState::kStopped:
      return "stopped";
  }
  return "?";
}

Worker::Worker(asio::io_context& io, TimerFactory& time, WorkerOptions options,
               CardExecutor* executor)
    : io_(io),
      time_(time),
      options_(Sanitized(std::move(options))),
      own_executor_(executor ? nullptr : std::make_unique<ProcessCardRunner>(io, options_.sandbox)),
      executor_(executor ? executor : own_executor_.get()),
      coordinators_(options_.coordinator,
                    [this](const std::string& address) {
                      return MakeCoordinatorChannel(address,
                                                    options_.tls ? &*options_.tls : nullptr);
                    }),
      artifacts_(io, clock_, options_.work_dir / ".artifacts", coordinators_, options_.token),
      resources_(io, options_.capacity),
      workspaces_(JobsRoot(options_), 64, options_.sandbox.user.owner()),
      heartbeat_timer_(time.CreateTimer()),
      reconnect_timer_(time.CreateTimer()),
      drain_timer_(time.CreateTimer()),
      close_timer_(time.CreateTimer()),
      welcome_timer_(time.CreateTimer()),
      linger_timer_(time.CreateTimer()),
      grace_timer_(time.CreateTimer()) {
  StackHost::Upward up;
  up.started = [this](const std::string& job, const CardStartedMsg& m) { OnCardStarted(job, m); };
  up.finished = [this](const std::string& job, const CardFinishedMsg& m) {
    OnCardFinished(job, m);
  };
  up.ended = [this](const std::string& job, uint32_t stack, uint32_t attempt,
                    const fs::path& workspace) { OnStackEnded(job, stack, attempt, workspace); };
  up.output = [this](const std::string& job, const CardOutputPiece& p) { OnCardOutput(job, p); };
  host_ =
      std::make_unique<StackHost>(StackRunnerEnv{io_, options_.name, clock_, *executor_, artifacts_,
                                                 resources_, workspaces_, &time_, &time_},
                                  JobsRoot(options_), std::move(up));
}

Worker::~Worker() {
  if (session_) {
    session_->Cancel();
    if (!session_->WaitDone(std::chrono::seconds(3))) {
      spdlog::warn("the coordinator stream did not end within 3 s of cancelling it");
    }
  }
}

void Worker::Start(std::function<void(int)> exited) {
  exited_ = std::move(exited);
  keep_running_.emplace(io_.get_executor());
  // Workspaces left by an earlier run belong to stacks the coordinator has re-placed since.
  std::error_code ec;
  fs::remove_all(JobsRoot(options_), ec);
  fs::create_directories(JobsRoot(options_), ec);
  if (ec) {
    spdlog::error("cannot create work dir {}: {}", JobsRoot(options_).string(), ec.message());
    Stop(kExitUsage);
    return;
  }
  if (options_.sandbox.user.switches) {
    // Cards run as another user: the artifact cache (other jobs' files) is the daemon's alone.
    fs::create_directories(options_.work_dir / ".artifacts", ec);
    ::chmod((options_.work_dir / ".artifacts").c_str(), 0700);
  }
  if (!options_.metrics_listen.empty() && !StartMetrics()) {
    Stop(kExitUsage);
    return;
  }
  if (options_.handle_signals) WatchSignals();
  spdlog::info("worker {} (capacity {}, work dir {}) dialing coordinator {}", options_.name,
               FormatResources(options_.capacity), options_.work_dir.string(),
               options_.coordinator);
  spdlog::info("{}", DescribeSandbox(options_.sandbox));
  Connect();
}

bool Worker::StartMetrics() {
  metrics_ = std::make_unique<WorkerMetrics>();
  metrics_->slots->Set(static_cast<double>(options_.slots));
  metrics_->SetCapacity(options_.capacity);
  artifacts_.SetMetrics(&metrics_->artifacts);
  auto started = MetricsEndpoint::Start(
      options_.metrics_listen, metrics_->registry, [this] { RefreshMetrics(); },
      [token = options_.metrics_password](const std::string& password) {
        return ConstantTimeEquals(password, token);
      });
  if (!started.ok()) {
    spdlog::error("{}", started.message());
    return false;
  }
  metrics_endpoint_ = std::move(started).value();
  std::printf("metrics on %s\n", metrics_endpoint_->url().c_str());
  std::fflush(stdout);
  spdlog::info("metrics on {}", metrics_endpoint_->url());
  // Options refused it beyond loopback without --insecure-plaintext; say so when it is.
  if (auto beyond = CheckPlainHttpListen("--metrics-listen", options_.metrics_listen,
                                         /*insecure_plaintext=*/true);
      beyond.ok() && *beyond) {
    spdlog::warn("--insecure-plaintext: --metrics-listen {} serves plain HTTP beyond loopback",
                 options_.metrics_listen);
  }
  return true;
}

void Worker::RefreshMetrics() {
  // On a scrape thread: the pool belongs to the loop, so read it there (bounded wait: a stopped
  // loop leaves the last value).
  auto read = std::make_shared<std::promise<void>>();
  std::future<void> done = read->get_future();
  asio::post(io_, [this, read] {
    metrics_->SetInUse(resources_.in_use());
    metrics_->cards_waiting->Set(static_cast<double>(resources_.waiting()));
    read->set_value();
  });
  done.wait_for(std::chrono::seconds(1));
}

void Worker::WatchSignals() {
  if (!signals_) {
    signals_.emplace(io_);
    signals_->add(SIGTERM);
    signals_->add(SIGINT);
  }
  signals_->async_wait([this](const std::error_code& ec, int signo) {
    if (ec) return;
    ++signals_seen_;
    if (signals_seen_ == 1) {
      Drain(std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT"));
      WatchSignals();
    } else {
      spdlog::warn("second signal: stopping now, killing running cards");
      Stop(128 + signo);
    }
  });
}

// ---------------------------------------------------------------- session lifecycle

void Worker::Become(WorkerState next, std::string_view why) {
  HOLLERITH_CHECK(Allowed(state_, next),
                  fmt::format("worker state {} -> {} is not a transition of the table ({})",
                              WorkerStateName(state_), WorkerStateName(next), why)
                      .c_str());
  spdlog::debug("worker state: {} -> {} ({})", WorkerStateName(state_), WorkerStateName(next), why);
  state_ = next;
  if (state_listener_) state_listener_(next);
}

void Worker::Connect() {
  if (state_ == WorkerState::kStopping || state_ == WorkerState::kStopped) return;
  const uint64_t generation = ++generation_;
  Become(WorkerState::kConnecting, "dialing the coordinator");
  epoch_ = 0;
  v1::WorkerMessage hello;
  auto* h = hello.mutable_hello();
  h->set_name(options_.name);
  for (const auto& [k, v] : options_.labels) {
    auto* kv = h->add_labels();
    kv->set_key(k);
    kv->set_value(v);
  }
  h->set_slots(static_cast<uint32_t>(options_.slots));  // for coordinators before capacity
  wire::ToProto(options_.capacity, h->mutable_capacity());
  h->set_version(kVersionString);  // the coordinator compares it with its own
  if (holding_) AddClaims(h);
  in_hello_ = holding_ ? unconfirmed_.size() : 0;
  hello.set_lamport(clock_.Tick());
  CoordinatorStream::Handlers handlers;
  handlers.message = [this, generation](const v1::CoordinatorMessage& m) {
    OnSessionMessage(generation, m);
  };
  handlers.done = [this, generation](const grpc::Status& s) { OnSessionDone(generation, s); };
  handlers.writable = [this, generation] {
    if (generation == generation_) Flush();
  };
  const auto target = coordinators_.current();
  session_address_ = target.address;
  spdlog::debug("opening session to {} (generation {})", session_address_, generation);
  if (opener_) {
    session_ = opener_(std::move(handlers), std::move(hello));
  } else {
    auto session = std::make_shared<Session>(io_, std::move(handlers));
    session_ = session;
    session->Start(*target.stub, options_.token, std::move(hello));
  }
  welcome_timer_->Arm(kWelcomeTimeout, [this, generation] {
    if (generation != generation_ || state_ != WorkerState::kConnecting || !session_) return;
    spdlog::warn("coordinator {} did not answer our hello within {} ms; trying again",
                 session_address_, kWelcomeTimeout.count());
    session_->Cancel();
  });
}

void Worker::ScheduleReconnect() {
  // Held stacks wait for a claim window of the coordinator's: try often enough to make it.
  const auto cap = holding_
                       ? std::clamp<std::chrono::milliseconds>(lease_ / 4, kMinBackoff, kMaxBackoff)
                       : kMaxBackoff;
  next_backoff_ = std::min(next_backoff_, cap);
  std::uniform_int_distribution<int64_t> jitter(next_backoff_.count() / 2, next_backoff_.count());
  const std::chrono::milliseconds delay(jitter(rng_));
  next_backoff_ = std::min(next_backoff_ * 2, cap);
  spdlog::info("reconnecting to coordinator {} in {} ms", coordinators_.address(), delay.count());
  Become(WorkerState::kBackingOff, "the stream ended");
  reconnect_timer_->Arm(delay, [this] {
    if (state_ == WorkerState::kBackingOff) Connect();
  });
}

void Worker::OnSessionDone(uint64_t generation, const grpc::Status& status) {
  if (generation != generation_) return;
  const bool was_welcomed = Welcomed();
  const auto standby = session_ ? session_->StandbyAnswer() : std::nullopt;
  session_.reset();  // connected() is false from here on
  heartbeat_timer_->Cancel();
  close_timer_->Cancel();
  welcome_timer_->Cancel();
  linger_timer_->Cancel();
  linger_armed_ = false;
  v1::WorkerMessage unsent;
  unsent.Swap(&batch_);
  unsent.clear_output();  // live output is for this session's followers only
  batch_output_bytes_ = 0;
  batch_text_bytes_ = 0;
  watched_.clear();  // a new session's coordinator sends its watches again
  if (state_ == WorkerState::kStopping) {
    Finalize();
    return;
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    spdlog::error(
        "coordinator rejected our credential ({}); check --token-file / HOLLERITH_TOKEN_FILE, "
        "or that --tls-cert is a worker certificate named as --name",
        Describe(status));
    CancelAllStacks("the coordinator rejected our credential");
    Stop(kExitRejected);
    return;
  }
  if (!was_welcomed && status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    spdlog::error("coordinator refused our hello: {}", Describe(status));
    Stop(kExitUsage);
    return;
  }
  if (was_welcomed && status.error_code() == grpc::StatusCode::ABORTED) {
    // Our own reconnects never reach the current session; this is another worker using our name.
    // Reconnecting would make the two take the name from each other forever, losing stacks.
    spdlog::error(
        "coordinator ended our session ({}): another worker named '{}' connected; worker "
        "names must be unique (--name)",
        Describe(status), options_.name);
    CancelAllStacks("another worker took our name");
    Stop(kExitUsage);
    return;
  }
  if (state_ == WorkerState::kDraining || state_ == WorkerState::kDrainClosing) {
    if (state_ == WorkerState::kDraining && host_->active_stacks() > 0) {
      spdlog::warn("coordinator stream ended during the drain ({}); abandoning {} running stacks",
                   Describe(status), host_->active_stacks());
    }
    CancelAllStacks("the worker is shutting down");
    Stop(kExitOk);
    return;
  }
  if (!was_welcomed && holding_) {
    // An attempt to reconnect failed during an outage: what the kept stacks reported while it
    // waited for its welcome (a start lingering in the batch) goes with the next hello, as
    // everything else of the outage. Dropped, the coordinator would record the card's finish
    // without its start: a trace that cannot show that the card started after its dependencies.
    Remember(std::make_shared<v1::WorkerMessage>(std::move(unsent)), /*sent=*/false);
  }
  if (was_welcomed && HoldStacks(std::move(unsent))) {
    spdlog::warn(
        "lost the coordinator stream ({}); keeping {} local stacks for up to {} ms "
        "(--outage-grace-ms) while reconnecting",
        Describe(status), host_->active_stacks(), OutageGrace().count());
  } else if (was_welcomed) {
    spdlog::warn(
        "lost the coordinator stream ({}); {} local stacks are cancelled (the coordinator "
        "re-places them)",
        Describe(status), host_->active_stacks());
  } else if (failed_connects_ == 0) {
    spdlog::warn("cannot open a session with coordinator {}: {}", session_address_,
                 Describe(status));
  } else {
    spdlog::debug("cannot open a session with coordinator {}: {}", session_address_,
                  Describe(status));
  }
  ++failed_connects_;
  if (!holding_) CancelAllStacks("lost the coordinator stream");
  artifacts_.ForgetUploads();
  // Another coordinator to try: the leader a standby named (at once), or the next of the list.
  const auto next = coordinators_.AfterFailure(session_address_, status, standby);
  if (next && *next != session_address_) {
    spdlog::info("{}; trying coordinator {}",
                 standby ? "coordinator " + session_address_ + " is a standby"
                         : "coordinator " + session_address_ + " is out of reach",
                 *next);
    if (standby && *next == *standby) next_backoff_ = kMinBackoff;  // the leader it named
  }
  ScheduleReconnect();
}

void Worker::OnSessionMessage(uint64_t generation, const v1::CoordinatorMessage& msg) {
  if (generation != generation_ || !session_) return;
  if (state_ == WorkerState::kStopping) {
    spdlog::debug("stopping: message {} from the coordinator dropped", msg.sequence());
    return;
  }
  spdlog::trace("message {}: {} assignments, {} releases, {} retries, {} skips", msg.sequence(),
                msg.assignments_size(), msg.releases_size(), msg.retries_size(), msg.skips_size());
  clock_.Receive(msg.lamport());
  if (msg.has_welcome()) {
    OnWelcome(msg.welcome());
  } else if (state_ == WorkerState::kConnecting) {
    spdlog::warn("coordinator sent a message before its welcome; ignored");
    return;
  }
  for (const auto& d : msg.drops()) ApplyDrop(d);
  if (msg.assignments_size() > 0) {
    // One line per message (up to 1,024 stacks), not per stack: a 100,000-stack job would write
    // 50,000 log lines here, each a write(2) on the loop.
    std::set<std::string_view> jobs;
    for (const auto& a : msg.assignments()) jobs.insert(a.job_id());
    spdlog::info("assigned {} stack{} of {}", msg.assignments_size(),
                 msg.assignments_size() == 1 ? "" : "s",
                 jobs.size() == 1 ? "job " + std::string(*jobs.begin())
                                  : std::to_string(jobs.size()) + " jobs");
  }
  for (const auto& a : msg.assignments()) ApplyAssignment(a);
  for (const auto& h : msg.cache_hits()) {  // before the releases that let their cards start
    spdlog::debug("cache hit {} {}.{} (attempt {}) from job {}", h.job_id(), h.stack(),
                  h.hit().card(), h.attempt(), h.hit().from_job());
    host_->CacheHit(h.job_id(), wire::FromProto(h));
  }
  if (msg.releases_size() > 0) {
    std::vector<std::pair<std::string, ReleaseMsg>> releases;
    releases.reserve(static_cast<size_t>(msg.releases_size()));
    for (const auto& r : msg.releases()) {
      spdlog::debug("release {} {}.{} -> {}.{} (attempt {})", r.job_id(), r.from().stack(),
                    r.from().card(), r.to().stack(), r.to().card(), r.attempt());
      ReleaseMsg m = wire::FromProto(r);
      if (auto it = placed_.find({r.job_id(), r.to().stack(), r.attempt()}); it != placed_.end()) {
        auto& from = it->second.released_from;
        from.push_back(m.from);
        from.insert(from.end(), m.also_from.begin(), m.also_from.end());  // a packed release
      }
      releases.emplace_back(r.job_id(), std::move(m));
    }
    host_->Release(releases);
  }
  for (const auto& r : msg.retries()) {
    spdlog::debug("retry {} {}.{} (attempt {}, try {}, in {} ms)", r.job_id(), r.card().stack(),
                  r.card().card(), r.attempt(), r.next_try(), r.delay_ms());
    host_->Retry(r.job_id(), wire::FromProto(r));
  }
  for (const auto& s : msg.skips()) {
    spdlog::debug("skip {} stack {} from card {} (attempt {}): {}", s.job_id(), s.stack(),
                  s.from_card(), s.attempt(), s.reason());
    host_->Skip(s.job_id(), wire::FromProto(s));
  }
  for (const auto& job : msg.cancel_jobs()) {
    spdlog::info("job {} cancelled by the coordinator", job);
    host_->CancelJob(job);
    std::erase_if(watched_, [&](const auto& key) { return key.first == job; });
  }
  for (const auto& w : msg.output_watches()) OnOutputWatch(w);
  if (msg.drain()) Drain("the coordinator asked us to drain");
}

void Worker::OnWelcome(const v1::Welcome& welcome) {
  epoch_ = welcome.epoch();
  const uint32_t ms = welcome.heartbeat_ms();
  heartbeat_ = std::chrono::milliseconds(ms == 0 ? 1000 : std::clamp<uint32_t>(ms, 10, 600'000));
  lease_ = welcome.lease_ms() == 0
               ? 5 * heartbeat_
               : std::chrono::milliseconds(std::clamp<uint32_t>(welcome.lease_ms(), 10, 3'600'000));
  // A card kept running through an outage publishes its outputs (fetches its inputs) once the
  // coordinator is back: its transfers wait for it as long as the stack is kept.
  artifacts_.set_unreachable_patience(OutageGrace());
  // A second welcome on the same stream only updates the epoch and the heartbeat interval.
  const bool first = state_ == WorkerState::kConnecting;
  if (first) Become(WorkerState::kConnected, "welcomed");
  welcome_timer_->Cancel();
  next_backoff_ = kMinBackoff;
  failed_connects_ = 0;
  spdlog::info("connected to coordinator {} as {} (epoch {}, heartbeat {} ms)", session_address_,
               options_.name, epoch_, heartbeat_.count());
  if (holding_) {
    // The hello carried the claims and the events: they count as sent now (and are replayed
    // again if this stream breaks within kResendWindow); the drops follow in this message.
    holding_ = false;
    grace_timer_->Cancel();
    // Events produced after the hello left go now, as any others (Flush remembers them).
    for (size_t i = in_hello_; i < unconfirmed_.size(); ++i) {
      Merge(batch_, std::move(*unconfirmed_[i].events));  // never sent: the worker's alone
    }
    unconfirmed_.resize(std::min(in_hello_, unconfirmed_.size()));
    if (HasEvents(batch_)) ScheduleFlush();
    const MonotonicTime now = time_.Now();
    for (auto& u : unconfirmed_) {
      u.sent = true;
      u.at = now;
    }
    unsent_bytes_ = 0;
    size_t kept = 0;
    for (const auto& [key, placed] : placed_) kept += placed.generation != 0;
    spdlog::info("reconnected: claimed the {} stacks kept through the outage", kept);
  }
  if (first) ArmHeartbeat();
}

void Worker::ApplyAssignment(const v1::Assignment& a) {
  const log::ScopedFields fields({.job = a.job_id(), .stack = a.stack(), .attempt = a.attempt()});
  // From the drain on, no new stack starts here (a stopping worker takes none either).
  if (state_ == WorkerState::kDraining || state_ == WorkerState::kDrainClosing ||
      state_ == WorkerState::kStopping || state_ == WorkerState::kStopped) {
    spdlog::info(
        "{}: declining stack {} of job {} (attempt {}); the coordinator re-places it once we "
        "disconnect",
        WorkerStateName(state_), a.stack(), a.job_id(), a.attempt());
    return;
  }
  if (!wire::ValidJobId(a.job_id())) {
    spdlog::error("assignment with a bad job id '{}'; ignored", a.job_id().substr(0, 80));
    return;
  }
  // The stack is already hosted with this attempt or a newer one: a duplicate or stale assignment,
  // unless that run belongs to a lost session and is winding down: then wait for it to end.
  for (auto it = placed_.lower_bound({a.job_id(), a.stack(), a.attempt()});
       it != placed_.end() && std::get<0>(it->first) == a.job_id() &&
       std::get<1>(it->first) == a.stack();
       ++it) {
    if (it->second.generation != 0) {
      spdlog::debug("stack {} of job {} (attempt {}) is already here; assignment ignored",
                    a.stack(), a.job_id(), a.attempt());
      return;
    }
    spdlog::debug("stack {} of job {} (attempt {}) waits for its cancelled run to end", a.stack(),
                  a.job_id(), a.attempt());
    deferred_[{a.job_id(), a.stack()}] = Deferred{generation_, a};
    return;
  }
  auto spec = wire::FromProto(a.spec(), a.stack());
  if (!spec.ok()) {
    spdlog::error("job {}: cannot run stack {} (attempt {}): {}", a.job_id(), a.stack(),
                  a.attempt(), spec.message());
    RejectAssignment(a, spec.message());
    return;
  }
  spdlog::debug("assigned job {} stack {} ({}, {} cards, attempt {})", a.job_id(), a.stack(),
                spec->is_combine ? std::string(kCombineName) : spec->id, spec->cards.size(),
                a.attempt());
  auto stack = std::make_shared<const StackSpec>(std::move(*spec));
  // An older attempt of the stack still held here (kept through an outage) is over.
  for (auto it = placed_.lower_bound({a.job_id(), a.stack(), 0});
       it != placed_.end() && std::get<0>(it->first) == a.job_id() &&
       std::get<1>(it->first) == a.stack() && std::get<2>(it->first) < a.attempt();
       ++it) {
    if (it->second.generation == 0) continue;
    it->second.generation = 0;
    host_->CancelStack(a.job_id(), a.stack(), std::get<2>(it->first));
  }
  placed_[{a.job_id(), a.stack(), a.attempt()}] = Placed{generation_, false, epoch_};
  AssignStackMsg assign = wire::FromProto(a);
  // Whose share of this worker its cards count against (DRF among equal priorities).
  assign.tenant = a.tenant();
  assign.tenant_weight = a.tenant_weight() == 0 ? 1 : a.tenant_weight();
  host_->Assign(a.job_id(), std::move(stack), assign);
}

void Worker::RejectAssignment(const v1::Assignment& a, const std::string& why) {
  // Report the stack's first card as failed and the stack as ended, so the job fails with the
  // reason instead of waiting for a stack that will never run.
  if (a.spec().cards_size() == 0) return;
  CardFinishedMsg failed;
  failed.card = {a.stack(), 0};
  failed.attempt = a.attempt();
  failed.try_no = 1;
  failed.node = options_.name;
  failed.succeeded = false;
  failed.error = "worker " + options_.name + " cannot run this stack: " + why;
  failed.lamport = clock_.Tick();
  failed.wall_us = time_.WallMicros();
  wire::ToProto(a.job_id(), failed, batch_.add_finished());
  auto* ended = batch_.add_ended();
  ended->set_job_id(a.job_id());
  ended->set_stack(a.stack());
  ended->set_attempt(a.attempt());
  ScheduleFlush();
}

void Worker::CancelAllStacks(const std::string& why) {
  deferred_.clear();
  artifacts_.StopWaiting();
  holding_ = false;
  grace_timer_->Cancel();
  unconfirmed_.clear();
  unsent_bytes_ = 0;
  std::set<std::string> jobs;
  for (const auto& [key, placed] : placed_) jobs.insert(std::get<0>(key));
  if (jobs.empty()) return;
  spdlog::info("cancelling {} local stacks of {} jobs: {}", placed_.size(), jobs.size(), why);
  // Their reports belong to the lost session: never forward them.
  for (auto& [key, placed] : placed_) placed.generation = 0;
  for (const auto& job : jobs) host_->CancelJob(job);
}

// ---------------------------------------------------------------- upward events

Worker::Placed* Worker::FindCurrent(const std::string& job, uint32_t stack, uint32_t attempt) {
  auto it = placed_.find({job, stack, attempt});
  if (it == placed_.end() || it->second.generation == 0) return nullptr;
  return &it->second;
}

void Worker::OnCardStarted(const std::string& job, const CardStartedMsg& m) {
  Placed* p = FindCurrent(job, m.card.stack, m.attempt);
  if (!p) return;
  const log::ScopedFields fields({.job = job,
                                  .stack = m.card.stack,
                                  .card = m.card.card,
                                  .attempt = m.attempt,
                                  .lamport = m.lamport});
  if (!p->running) {
    p->running = true;
    ++running_cards_;
  }
  spdlog::debug("started {} {}.{} (attempt {}, try {}, lamport {})", job, m.card.stack, m.card.card,
                m.attempt, m.try_no, m.lamport);
  wire::ToProto(job, m, batch_.add_started());
  // A lone card's start leaves at once: on this VM the small message also wakes the coordinator's
  // threads ahead of the card's finish (chain_hop p50 ~167 us with, ~190 us without). Under load
  // (other cards running) starts ride along with the next finish instead.
  if (running_cards_ > 1) {
    ScheduleLateFlush();
  } else {
    ScheduleFlush();
  }
}

void Worker::OnCardFinished(const std::string& job, const CardFinishedMsg& m) {
  if (metrics_) {
    metrics_->card_run->Observe(static_cast<double>(m.duration_ms) / 1000.0);
    if (m.spawn_us >= 0) metrics_->card_spawn->Observe(static_cast<double>(m.spawn_us) / 1e6);
  }
  Placed* p = FindCurrent(job, m.card.stack, m.attempt);
  if (!p) return;
  const log::ScopedFields fields({.job = job,
                                  .stack = m.card.stack,
                                  .card = m.card.card,
                                  .attempt = m.attempt,
                                  .lamport = m.lamport});
  if (p->running) {
    p->running = false;
    --running_cards_;
  }
  spdlog::debug("finished {} {}.{} (attempt {}, try {}, exit {}{}{}, lamport {})", job,
                m.card.stack, m.card.card, m.attempt, m.try_no, m.exit_code,
                m.error.empty() ? "" : ", ", m.error, m.lamport);
  auto* finished = batch_.add_finished();
  wire::ToProto(job, m, finished);
  finished->set_full_output_uploads(UploadFullOutput(job, m));
  batch_text_bytes_ += finished->stdout_text().size() + finished->stderr_text().size();
  ScheduleFlush();
}

uint32_t Worker::UploadFullOutput(const std::string& job, const CardFinishedMsg& m) {
  uint32_t uploads = 0;
  for (const bool err : {false, true}) {
    const std::string& file = err ? m.stderr_file : m.stdout_file;
    if (file.empty()) continue;
    ++uploads;
    LogUploadHeader header{job, m.card.stack, m.card.card, m.attempt, m.try_no, err, clock_.now()};
    // The housekeeping thread removes the stack's workspace (and this file) only after this.
    asio::post(housekeeping_, [this, header, file] {
      if (Status s = UploadLog(coordinators_.stub(), options_.token, header, file); !s.ok()) {
        spdlog::warn("job {}: card {}.{}: {}", header.job_id, header.stack, header.card,
                     s.message());
      }
    });
  }
  return uploads;
}

void Worker::OnOutputWatch(const v1::OutputWatch& w) {
  const std::pair<std::string, uint32_t> key{w.job_id(), w.stack()};
  if (!w.on()) {
    watched_.erase(key);
    return;
  }
  watched_.insert(key);
  // What the running card wrote before the watch (its last MiB), then the rest as it comes; again
  // for each new follower (the coordinator drops what a follower has seen, by offset).
  for (const bool err : {false, true}) {
    std::string data;
    CardOutputPiece piece;
    if (host_->RunningOutput(w.job_id(), w.stack(), err, size_t{1} << 20, &data, &piece) &&
        !data.empty()) {
      AddOutput(w.job_id(), piece);
    }
  }
}

void Worker::OnCardOutput(const std::string& job, const CardOutputPiece& piece) {
  if (watched_.empty() || !watched_.count({job, piece.card.stack})) return;
  if (!FindCurrent(job, piece.card.stack, piece.attempt)) return;
  AddOutput(job, piece);
}

void Worker::AddOutput(const std::string& job, const CardOutputPiece& piece) {
  // A card writing faster than the stream carries loses the excess (the follower is told of the
  // gap by the offsets); its full output still reaches the coordinator once it ends.
  constexpr size_t kMaxOutputPerBatch = size_t{4} << 20;
  if (batch_output_bytes_ + piece.data.size() > kMaxOutputPerBatch) return;
  batch_output_bytes_ += piece.data.size();
  if (batch_.output_size() > 0) {
    auto& last = *batch_.mutable_output(batch_.output_size() - 1);
    if (last.job_id() == job && last.card().stack() == piece.card.stack &&
        last.card().card() == piece.card.card && last.attempt() == piece.attempt &&
        last.try_no() == piece.try_no && last.stderr() == piece.err &&
        last.offset() + last.data().size() == piece.offset) {
      last.mutable_data()->append(piece.data);
      ScheduleFlush();
      return;
    }
  }
  auto* chunk = batch_.add_output();
  chunk->set_job_id(job);
  chunk->mutable_card()->set_stack(piece.card.stack);
  chunk->mutable_card()->set_card(piece.card.card);
  chunk->set_attempt(piece.attempt);
  chunk->set_try_no(piece.try_no);
  chunk->set_stderr(piece.err);
  chunk->set_offset(piece.offset);
  chunk->set_data(std::string(piece.data));
  ScheduleFlush();
}

void Worker::OnStackEnded(const std::string& job, uint32_t stack, uint32_t attempt,
                          const fs::path& workspace) {
  auto it = placed_.find({job, stack, attempt});
  if (it != placed_.end()) {
    if (it->second.running) --running_cards_;
    const bool current = it->second.generation != 0;
    placed_.erase(it);
    if (current) {
      spdlog::debug("ended {} stack {} (attempt {})", job, stack, attempt);
      auto* e = batch_.add_ended();
      e->set_job_id(job);
      e->set_stack(stack);
      e->set_attempt(attempt);
      ScheduleFlush();
    }
    if (!options_.keep_workspaces) RemoveWorkspace(workspace);
  }
  if (auto d = deferred_.find({job, stack}); d != deferred_.end()) {
    auto next = placed_.lower_bound({job, stack, 0});
    const bool still_running = next != placed_.end() && std::get<0>(next->first) == job &&
                               std::get<1>(next->first) == stack;
    if (!still_running) {
      Deferred deferred = std::move(d->second);
      deferred_.erase(d);
      if (deferred.generation == generation_) ApplyAssignment(deferred.assignment);
    }
  }
  CheckDrained();
}

void Worker::RemoveWorkspace(const fs::path& workspace) {
  if (workspace.empty()) return;  // a stack of built-ins made none
  // After the uploads of its cards' full output (queued before on the same thread); a new run of
  // the same stack has a workspace of its own (StackHost::WorkspaceOf), so this cannot touch it.
  asio::post(housekeeping_, [this, workspace] { workspaces_.Retire(workspace); });
}

// ---------------------------------------------------------------- outbox

void Worker::ArmHeartbeat() {
  heartbeat_timer_->Arm(heartbeat_, [this] {
    if (!connected()) return;
    QueueHeartbeat();
    ArmHeartbeat();
  });
}

void Worker::QueueHeartbeat() {
  batch_.mutable_heartbeat()->set_running_cards(static_cast<uint32_t>(running_cards_));
  clock_.Tick();
  Flush();
}

void Worker::ScheduleFlush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  // Everything produced in this turn of the loop leaves in one message.
  asio::post(io_, [this] { Flush(); });
}

void Worker::ScheduleLateFlush() {
  if (flush_posted_ || linger_armed_ || late_check_posted_) return;
  late_check_posted_ = true;
  // A built-in's finish follows its start within two turns of the loop: look again after those,
  // and start the linger timer only if the start is still waiting alone.
  asio::post(io_, [this] {
    asio::post(io_, [this] {
      late_check_posted_ = false;
      if (flush_posted_ || linger_armed_ || !HasEvents(batch_)) return;
      linger_armed_ = true;
      linger_timer_->Arm(kStartedLinger, [this] {
        linger_armed_ = false;
        Flush();
      });
    });
  });
}

void Worker::Flush(FlushMode mode) {
  flush_posted_ = false;
  if (!connected()) {
    // Nobody to tell: held stacks' events wait for the next hello (not their live output);
    // otherwise a new session starts clean.
    batch_.clear_output();
    if (holding_) Remember(std::make_shared<v1::WorkerMessage>(std::move(batch_)), /*sent=*/false);
    batch_.Clear();
    batch_output_bytes_ = 0;
    batch_text_bytes_ = 0;
    return;
  }
  if (!HasEvents(batch_)) return;
  // Under load, while the stream writes, the batch keeps growing and leaves when the stream is
  // writable: a burst goes as a few large messages. A lone stack's events (a chain's next card
  // waits on them) leave at once, behind the write if there is one. Either way the message kept
  // for the resend window is the one sent.
  if (mode == FlushMode::kWhenWritable && host_->active_stacks() > 1 &&
      CardEvents(batch_) < kHeldBackEvents && batch_text_bytes_ < kHeldBackTextBytes &&
      session_->busy()) {
    return;
  }
  batch_.set_epoch(epoch_);
  batch_.set_lamport(clock_.now());
  auto sent = std::make_shared<v1::WorkerMessage>(std::move(batch_));
  batch_.Clear();
  batch_output_bytes_ = 0;
  batch_text_bytes_ = 0;
  if (CardEvents(*sent) > 0) Remember(sent, /*sent=*/true);
  session_->Send(std::move(sent));
}

// ---------------------------------------------------------------- drain and stop

void Worker::Drain(const std::string& why) {
  switch (state_) {
    case WorkerState::kDraining:
    case WorkerState::kDrainClosing:
    case WorkerState::kStopping:
    case WorkerState::kStopped:
      return;
    case WorkerState::kIdle:
    case WorkerState::kConnecting:
    case WorkerState::kConnected:
    case WorkerState::kBackingOff:
      break;
  }
  spdlog::info("draining ({}): {} stacks still running; new stacks are declined", why,
               host_->active_stacks());
  if (!connected()) {
    Stop(kExitOk);  // nobody to report to: nothing to wait for
    return;
  }
  Become(WorkerState::kDraining, why);
  QueueHeartbeat();
  drain_timer_->Arm(options_.drain_timeout, [this] {
    if (state_ != WorkerState::kDraining) return;
    spdlog::warn("drain timed out after {} ms with {} stacks running; cancelling them",
                 options_.drain_timeout.count(), host_->active_stacks());
    CancelAllStacks("drain timed out");
    if (state_ != WorkerState::kDraining) return;  // the cancelled stacks ended at once
    drain_timer_->Arm(kCancelGrace, [this] {
      if (state_ == WorkerState::kDraining) FinishDrain();
    });
  });
  CheckDrained();
}

void Worker::CheckDrained() {
  if (state_ == WorkerState::kDraining && host_->active_stacks() == 0) FinishDrain();
}

void Worker::FinishDrain() {
  Become(WorkerState::kDrainClosing, "nothing left to wait for");
  drain_timer_->Cancel();
  if (!session_) {
    Stop(kExitOk);
    return;
  }
  spdlog::info("drained: closing the coordinator stream");
  Flush(FlushMode::kNow);
  session_->Close();
  close_timer_->Arm(kCloseGrace, [this] {
    if (state_ != WorkerState::kDrainClosing || !session_) return;
    spdlog::warn("the coordinator did not end the stream within {} ms; cancelling it",
                 kCloseGrace.count());
    Stop(kExitOk);
  });
}

void Worker::Stop(int exit_code) {
  if (state_ == WorkerState::kStopping || state_ == WorkerState::kStopped) return;
  Become(WorkerState::kStopping, "exit code " + std::to_string(exit_code));
  exit_code_ = exit_code;
  heartbeat_timer_->Cancel();
  reconnect_timer_->Cancel();
  drain_timer_->Cancel();
  close_timer_->Cancel();
  welcome_timer_->Cancel();
  linger_timer_->Cancel();
  grace_timer_->Cancel();
  linger_armed_ = false;
  if (session_) {
    session_->Cancel();  // OnSessionDone finalizes
  } else {
    Finalize();
  }
}

void Worker::Finalize() {
  if (state_ == WorkerState::kStopped) return;
  Become(WorkerState::kStopped, "finalized");
  std::error_code ignored;
  if (signals_) signals_->cancel(ignored);
  spdlog::info("worker {} stopped (exit code {})", options_.name, exit_code_);
  if (exited_) asio::post(io_, [exited = std::move(exited_), code = exit_code_] { exited(code); });
  keep_running_.reset();
}

}  // namespace hollerith::worker
