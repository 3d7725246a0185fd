#include "load_worker.h"

#include <algorithm>
#include <asio/post.hpp>
#include <cstdio>
#include <random>
#include <utility>

#include "common/base/version.h"
#include "proto/wire.h"

namespace hollerith::load {

uint64_t GateExecutor::Run(const CardSpec& card, const CardLaunch& launch, Done done) {
  const uint64_t handle = FakeExecutor::Run(card, launch, std::move(done));
  if (open_ || card.id != kHeldCard) Complete(handle, 0);  // posts its done: never inside Run
  return handle;
}

size_t GateExecutor::CompleteHeld(size_t max) {
  std::vector<uint64_t> handles;
  for (const auto& [handle, running] : running()) {
    if (handles.size() >= max) break;
    handles.push_back(handle);
  }
  for (uint64_t handle : handles) Complete(handle, 0);
  return handles.size();
}

void NoArtifacts::Publish(const std::filesystem::path& file,
                          std::function<void(Result<std::string>)> done) {
  asio::post(io_, [done = std::move(done), file] {
    done(Status::Error(StatusCode::kFailedPrecondition,
                       "hollerith-load keeps no artifacts: " + file.string()));
  });
}

void NoArtifacts::Fetch(const std::string& digest, const std::filesystem::path&,
                        std::function<void(Status)> done) {
  asio::post(io_, [done = std::move(done), digest] {
    done(Status::Error(StatusCode::kFailedPrecondition,
                       "hollerith-load keeps no artifacts: " + digest));
  });
}

Fleet::Fleet(asio::io_context& loop, const std::filesystem::path& root)
    : io(loop),
      work_root(root),
      timers(loop),
      executor(loop),
      artifacts(loop),
      resources(loop, Resources{kMaxCpuMilli, 0, {}}),
      workspaces(root / "spare") {}

LoadWorker::LoadWorker(Fleet& fleet, std::string name, std::shared_ptr<grpc::Channel> channel)
    : fleet_(fleet),
      name_(std::move(name)),
      channel_(std::move(channel)),
      stub_(v1::Coordinator::NewStub(channel_)),
      heartbeat_timer_(fleet.io) {
  StackHost::Upward up;
  up.started = [this](const std::string& job, const CardStartedMsg& m) {
    ++running_cards_;
    ++fleet_.started;
    wire::ToProto(job, m, batch_.add_started());
    ScheduleFlush();
  };
  up.finished = [this](const std::string& job, const CardFinishedMsg& m) {
    if (running_cards_ > 0) --running_cards_;
    ++fleet_.finished;
    wire::ToProto(job, m, batch_.add_finished());
    finishes_in_batch_.push_back(m.card.stack);
    ScheduleFlush();
  };
  up.ended = [this](const std::string& job, uint32_t stack, uint32_t attempt,
                    const std::filesystem::path&) {
    auto* e = batch_.add_ended();
    e->set_job_id(job);
    e->set_stack(stack);
    e->set_attempt(attempt);
    ScheduleFlush();
  };
  host_ = std::make_unique<StackHost>(
      StackRunnerEnv{fleet.io, name_, clock_, fleet.executor, fleet.artifacts, fleet.resources,
                     fleet.workspaces, &fleet.timers, &fleet.timers},
      fleet.work_root / name_, std::move(up));
}

void LoadWorker::Connect(const Resources& capacity) {
  v1::WorkerMessage hello;
  auto* h = hello.mutable_hello();
  h->set_name(name_);
  h->set_slots(static_cast<uint32_t>(std::max<uint64_t>(1, capacity.cpu_milli / kMilliCpu)));
  wire::ToProto(capacity, h->mutable_capacity());
  h->set_version(kVersionString);
  hello.set_lamport(clock_.Tick());
  worker::CoordinatorStream::Handlers handlers;
  handlers.message = [this](const v1::CoordinatorMessage& m) { OnMessage(m); };
  handlers.done = [this](const grpc::Status& s) { OnDone(s); };
  handlers.writable = [this] { Flush(); };
  session_ = std::make_shared<worker::Session>(fleet_.io, std::move(handlers));
  session_->Start(*stub_, fleet_.token, std::move(hello));
}

void LoadWorker::Stop() {
  stopped_ = true;
  heartbeat_timer_.cancel();
  if (session_) session_->Cancel();
}

bool LoadWorker::WaitDone(std::chrono::milliseconds timeout) {
  return !session_ || session_->WaitDone(timeout);
}

void LoadWorker::OnMessage(const v1::CoordinatorMessage& msg) {
  if (stopped_) return;
  clock_.Receive(msg.lamport());
  if (msg.has_welcome()) {
    epoch_ = msg.welcome().epoch();
    const uint32_t ms = msg.welcome().heartbeat_ms();
    heartbeat_ = std::chrono::milliseconds(ms == 0 ? 1000 : std::clamp<uint32_t>(ms, 10, 600'000));
    if (!welcomed_) {
      welcomed_ = true;
      ++fleet_.welcomed;
      // The first beat at a random point of the interval: 10,000 sessions must not beat at once.
      static std::minstd_rand rng{12345};  // loop thread only
      ArmHeartbeat(std::chrono::milliseconds(
          std::uniform_int_distribution<int64_t>(1, heartbeat_.count())(rng)));
    }
  } else if (!welcomed_) {
    return;  // as a worker does: nothing counts before the welcome
  }
  for (const auto& a : msg.assignments()) {
    auto spec = wire::FromProto(a.spec(), a.stack());
    if (!spec.ok()) {
      std::fprintf(stderr, "hollerith-load: %s: bad assignment of stack %u: %s\n", name_.c_str(),
                   a.stack(), spec.message().c_str());
      continue;
    }
    fleet_.last_assignment = SteadyClock::now();
    host_->Assign(a.job_id(), std::make_shared<const StackSpec>(std::move(*spec)),
                  wire::FromProto(a));
    if (++fleet_.assigned == fleet_.expected_stacks && fleet_.on_all_assigned) {
      fleet_.on_all_assigned();
    }
  }
  for (const auto& hit : msg.cache_hits()) host_->CacheHit(hit.job_id(), wire::FromProto(hit));
  if (msg.releases_size() > 0) {
    const auto now = SteadyClock::now();
    std::vector<std::pair<std::string, ReleaseMsg>> releases;
    releases.reserve(static_cast<size_t>(msg.releases_size()));
    for (const auto& r : msg.releases()) {
      ReleaseMsg m = wire::FromProto(r);
      auto count = [&](const CardRef& from) {  // each card of a packed release
        ++fleet_.releases;
        if (auto it = fleet_.finish_sent.find(from.stack); it != fleet_.finish_sent.end()) {
          fleet_.release_us.push_back(
              std::chrono::duration<double, std::micro>(now - it->second).count());
        }
      };
      count(m.from);
      for (const CardRef& from : m.also_from) count(from);
      releases.emplace_back(r.job_id(), std::move(m));
    }
    host_->Release(releases);
  }
  for (const auto& r : msg.retries()) host_->Retry(r.job_id(), wire::FromProto(r));
  for (const auto& s : msg.skips()) host_->Skip(s.job_id(), wire::FromProto(s));
  for (const auto& job : msg.cancel_jobs()) host_->CancelJob(job);
}

void LoadWorker::OnDone(const grpc::Status& status) {
  session_done_ = true;
  heartbeat_timer_.cancel();
  if (stopped_ || fleet_.stopping) return;
  ++fleet_.lost;
  if (fleet_.lost_reasons.size() < 10) {
    fleet_.lost_reasons.push_back(name_ + ": code " + std::to_string(status.error_code()) + " " +
                                  status.error_message());
    std::fprintf(stderr, "hollerith-load: session of %s ended unexpectedly: %s\n", name_.c_str(),
                 fleet_.lost_reasons.back().c_str());
  }
}

void LoadWorker::ArmHeartbeat(std::chrono::milliseconds delay) {
  heartbeat_timer_.expires_after(delay);
  heartbeat_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || stopped_ || session_done_) return;
    batch_.mutable_heartbeat()->set_running_cards(running_cards_);
    clock_.Tick();
    Flush();
    ArmHeartbeat(heartbeat_);
  });
}

void LoadWorker::ScheduleFlush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  // Everything this turn of the loop produced leaves in one message, as a worker's batch does.
  asio::post(fleet_.io, [this] { Flush(); });
}

void LoadWorker::Flush() {
  flush_posted_ = false;
  if (!welcomed_ || stopped_ || session_done_ || !session_) {
    batch_.Clear();
    finishes_in_batch_.clear();
    return;
  }
  if (!batch_.has_heartbeat() && worker::CardEvents(batch_) == 0) {
    return;
  }
  // As a worker does: the batch grows while a write is in flight and leaves once it is done.
  if (session_->busy()) return;
  batch_.set_epoch(epoch_);
  batch_.set_lamport(clock_.now());
  const auto now = SteadyClock::now();
  for (uint32_t stack : finishes_in_batch_) fleet_.finish_sent[stack] = now;
  finishes_in_batch_.clear();
  session_->Send(std::make_shared<const v1::WorkerMessage>(std::move(batch_)));
  batch_.Clear();
}

}  // namespace hollerith::load
