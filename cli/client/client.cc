#include "cli/client/client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/core/clock.h"
#include "hollerith.grpc.pb.h"
#include "proto/rpc_auth.h"
#include "proto/rpc_credentials.h"
#include "proto/rpc_leader.h"

namespace hollerith {

using std::chrono::steady_clock;

namespace {

constexpr int kUnaryDeadlineS = 30;
constexpr int kSubmitDeadlineS = 120;
constexpr int kStreamDeadlineS = 300;  // bounded streams: a log without follow, a trace
// How long a call looks for the leader (a failover takes about a lease, 2 s by default).
constexpr auto kFailoverWindow = std::chrono::seconds(15);

// Turns a failed call into a message for people. `job` names the job the call was about (if any).
Status ToStatus(const grpc::Status& s, const std::string& address, const std::string& job = "") {
  const std::string& msg = s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::UNAVAILABLE:
      return Status::Error("cannot reach coordinator at " + address + ": " + msg);
    case grpc::StatusCode::UNAUTHENTICATED:
      return Status::Error(
          "coordinator rejected the credential (check --token-file, or --tls-cert and --tls-key)");
    case grpc::StatusCode::PERMISSION_DENIED:
      return Status::Error("coordinator refused: " + msg);
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return Status::Error(msg);  // the server's words, e.g. "spec.yaml:3:5: unknown key"
    case grpc::StatusCode::NOT_FOUND:
      if (job.empty()) return Status::NotFound(msg.empty() ? "not found" : msg);
      return Status::NotFound("no job '" + job + "'");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status::Error("coordinator at " + address + " did not answer in time");
    case grpc::StatusCode::CANCELLED:
      return Status::Error("call cancelled" + (msg.empty() ? "" : ": " + msg));
    default:
      return Status::Error("coordinator at " + address + " failed (gRPC code " +
                           std::to_string(static_cast<int>(s.error_code())) + "): " + msg);
  }
}

}  // namespace

struct Client::Shared {
  std::string name;  // the address list as given, for messages
  std::string token;
  NoticeCallback notice;  // set before streams start; called from watch threads
  std::unique_ptr<rpc::LeaderFollower> coordinators;
  mutable std::mutex mu;
  LamportClock clock;

  // Lamport time for an outgoing request (a send event).
  uint64_t Send() {
    std::lock_guard lock(mu);
    return clock.Tick();
  }
  void Receive(uint64_t remote) {
    std::lock_guard lock(mu);
    clock.Receive(remote);
  }
  void Prepare(grpc::ClientContext& ctx, int deadline_s) const {
    rpc::AttachBearer(ctx, token);
    if (deadline_s > 0)
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
  }

  // Makes a call (`attempt(stub, ctx)`) and follows the leader: a standby's answer moves it to
  // the leader and it is made again at once; an unreachable coordinator, or a standby that knows
  // no leader yet, to the next address after a pause, for up to kFailoverWindow. A failure that
  // may have reached a leader is repeated only if `repeatable()` (e.g. a submission with an
  // idempotency key, or a stream that delivered nothing yet). `address` receives the address
  // of the last try (for messages).
  template <class Attempt, class Repeatable>
  grpc::Status Call(int deadline_s, std::string* address, Attempt&& attempt,
                    Repeatable&& repeatable) {
    const auto give_up_at = steady_clock::now() + kFailoverWindow;
    auto pause = std::chrono::milliseconds(100);
    for (;;) {
      const auto target = coordinators->current();
      grpc::ClientContext ctx;
      Prepare(ctx, deadline_s);
      grpc::Status s = attempt(*target.stub, ctx);
      *address = target.address;
      if (!rpc::MayBeElsewhere(s)) return s;
      const auto standby = rpc::StandbyAnswer(ctx.GetServerTrailingMetadata());
      if (!standby && !repeatable()) return s;
      const auto next = coordinators->AfterFailure(target.address, s, standby);
      if (!next || steady_clock::now() >= give_up_at) return s;
      if (standby && *next == *standby) continue;  // to the leader it named
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(1000));
    }
  }
  template <class Attempt>
  grpc::Status Call(int deadline_s, std::string* address, Attempt&& attempt) {
    return Call(deadline_s, address, std::forward<Attempt>(attempt), [] { return true; });
  }
};

namespace {

// Runs one WatchJob stream (re-opened after a broken connection) on a thread of its own.
class WatchThread : public JobWatch {
 public:
  WatchThread(std::shared_ptr<Client::Shared> shared, std::string job, uint64_t from_lamport,
              Client::EventCallback on_event, Client::DoneCallback on_done, int reconnect_for_s)
      : shared_(std::move(shared)),
        job_(std::move(job)),
        from_(from_lamport),
        on_event_(std::move(on_event)),
        on_done_(std::move(on_done)),
        reconnect_for_(std::chrono::seconds(std::max(0, reconnect_for_s))) {
    thread_ = std::thread([this] { Run(); });
  }
  ~WatchThread() override {
    Cancel();
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // destroyed from its own callback: Run touches nothing after on_done
    } else {
      Join();
    }
  }

  void Cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    if (ctx_ != nullptr) ctx_->TryCancel();
    wake_.notify_all();
  }
  void Join() override {
    if (thread_.get_id() == std::this_thread::get_id()) return;
    std::lock_guard lock(join_mu_);
    if (thread_.joinable()) thread_.join();
  }

 private:
  // One stream; returns its final status and whether job_finished arrived. `address`: whom it
  // asked; `standby`: what a standby answered (rpc::StandbyAnswer).
  grpc::Status ReadStream(bool* finished, bool* progressed, std::string* address,
                          std::optional<std::string>* standby) {
    const auto target = shared_->coordinators->current();
    *address = target.address;
    grpc::ClientContext ctx;
    shared_->Prepare(ctx, 0);
    {
      std::lock_guard lock(mu_);
      if (cancelled_) return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
      ctx_ = &ctx;
    }
    v1::WatchJobRequest req;
    req.set_job(job_);
    // Events come in the coordinator's trace order, which is not Lamport order (times tie and
    // interleave across nodes), so a resumed stream asks for the same replay again and skips the
    // events already delivered: the trace is append-only, so the replay order is the same.
    req.set_from_lamport(from_);
    req.set_lamport(shared_->Send());
    auto reader = target.stub->WatchJob(&ctx, req);
    v1::JobEventBatch batch;
    uint64_t index = 0;
    while (!*finished && reader->Read(&batch)) {
      shared_->Receive(batch.lamport());
      for (const v1::JobEvent& ev : batch.events()) {
        if (index++ < delivered_) continue;
        ++delivered_;
        *progressed = true;
        if (on_event_) on_event_(ev);
        if (ev.kind() == "job_finished") {
          *finished = true;
          ctx.TryCancel();  // the server ends the stream too; no need to wait for it
          break;
        }
      }
    }
    grpc::Status status = reader->Finish();
    *standby = rpc::StandbyAnswer(ctx.GetServerTrailingMetadata());
    std::lock_guard lock(mu_);
    ctx_ = nullptr;
    return status;
  }

  void Run() {
    Status result;
    auto give_up_at = steady_clock::now() + reconnect_for_;
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
      bool finished = false, progressed = false;
      std::string address;
      std::optional<std::string> standby;
      grpc::Status s = ReadStream(&finished, &progressed, &address, &standby);
      if (finished || s.ok()) break;
      // A standby that names the leader: asked there at once.
      const auto next = shared_->coordinators->AfterFailure(address, s, standby);
      if (next && standby && *next == *standby && !cancelled()) continue;
      std::unique_lock lock(mu_);
      if (cancelled_) {
        result = Status::Error("watch of job " + job_ + " cancelled");
        break;
      }
      if (progressed) {
        give_up_at = steady_clock::now() + reconnect_for_;
        in_outage_ = false;
      }
      if (!rpc::MayBeElsewhere(s) || steady_clock::now() >= give_up_at) {
        result = ToStatus(s, address, job_);
        break;
      }
      if (!in_outage_ && shared_->notice) {
        in_outage_ = true;
        lock.unlock();
        shared_->notice("lost the coordinator at " + address + " (" + s.error_message() +
                        "); reconnecting, resuming after event " + std::to_string(delivered_));
        lock.lock();
      }
      wake_.wait_for(lock, backoff, [this] { return cancelled_; });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
    if (on_done_) on_done_(result);
  }

  bool cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }

  std::shared_ptr<Client::Shared> shared_;
  const std::string job_;
  const uint64_t from_;
  Client::EventCallback on_event_;
  Client::DoneCallback on_done_;
  const std::chrono::seconds reconnect_for_;

  uint64_t delivered_ = 0;  // events passed to on_event so far (watch thread only)
  bool in_outage_ = false;  // a notice about a lost stream went out (watch thread only)

  std::mutex mu_;
  std::condition_variable wake_;
  bool cancelled_ = false;
  grpc::ClientContext* ctx_ = nullptr;
  std::mutex join_mu_;
  std::thread thread_;
};

}  // namespace

std::string NewIdempotencyKey() {
  std::random_device rd;
  std::string key;
  static const char* kHex = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    uint32_t word = rd();
    for (int j = 0; j < 8; ++j, word >>= 4) key.push_back(kHex[word & 15]);
  }
  return key;
}

bool IsFinishedJobState(const std::string& state) {
  return state == "succeeded" || state == "failed" || state == "cancelled";
}

Client::Client(std::string address, std::string token) : shared_(std::make_shared<Shared>()) {
  shared_->coordinators = std::make_unique<rpc::LeaderFollower>(
      address, [](const std::string& a) { return rpc::MakeChannel(a); });
  shared_->name = std::move(address);
  shared_->token = std::move(token);
}

Client::Client(std::shared_ptr<grpc::Channel> channel, std::string name, std::string token)
    : shared_(std::make_shared<Shared>()) {
  shared_->coordinators = std::make_unique<rpc::LeaderFollower>(
      std::vector<std::string>{name}, [channel](const std::string&) { return channel; });
  shared_->name = std::move(name);
  shared_->token = std::move(token);
}

Client::Client(std::string address, const ClientTls& tls) : shared_(std::make_shared<Shared>()) {
  const rpc::TlsMaterial material{tls.ca_pem, tls.cert_pem, tls.key_pem};
  shared_->coordinators = std::make_unique<rpc::LeaderFollower>(
      address, [credentials = rpc::ChannelCredentials(&material)](const std::string& a) {
        return rpc::MakeChannel(a, credentials);
      });
  shared_->name = std::move(address);
}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const std::string& Client::address() const { return shared_->name; }

void Client::SetNotice(NoticeCallback notice) { shared_->notice = std::move(notice); }

uint64_t Client::lamport() const {
  std::lock_guard lock(shared_->mu);
  return shared_->clock.now();
}

namespace {

v1::SubmitJobRequest SubmitRequest(const std::string& spec_text, const std::string& spec_name,
                                   const std::string& idempotency_key, const std::string& cache,
                                   uint64_t lamport) {
  v1::SubmitJobRequest req;
  req.set_spec(spec_text);
  req.set_spec_name(spec_name);
  req.set_idempotency_key(idempotency_key);
  req.set_cache(cache);
  req.set_lamport(lamport);
  return req;
}

SubmittedJob ToSubmittedJob(const v1::SubmitJobResponse& resp) {
  return SubmittedJob{resp.job_id(),
                      resp.name(),
                      resp.existing(),
                      resp.tenant(),
                      {resp.warnings().begin(), resp.warnings().end()}};
}

}  // namespace

Result<SubmittedJob> Client::Submit(const std::string& spec_text, const std::string& spec_name,
                                    const std::string& idempotency_key, const std::string& cache) {
  const v1::SubmitJobRequest req =
      SubmitRequest(spec_text, spec_name, idempotency_key, cache, shared_->Send());
  v1::SubmitJobResponse resp;
  std::string at;
  grpc::Status s = shared_->Call(
      kSubmitDeadlineS, &at,
      [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
        return stub.SubmitJob(&ctx, req, &resp);
      },
      [&] { return !idempotency_key.empty(); });
  if (!s.ok()) return ToStatus(s, at);
  shared_->Receive(resp.lamport());
  return ToSubmittedJob(resp);
}

Result<SubmittedJob> Client::SubmitAndWatch(
    const std::string& spec_text, const std::string& spec_name, const std::string& idempotency_key,
    const std::string& cache, const std::function<void(const SubmittedJob&)>& on_submitted,
    const EventCallback& on_event) {
  const auto target = shared_->coordinators->current();
  grpc::ClientContext ctx;
  shared_->Prepare(ctx, 0);
  auto reader = target.stub->SubmitAndWatch(
      &ctx, SubmitRequest(spec_text, spec_name, idempotency_key, cache, shared_->Send()));
  std::optional<SubmittedJob> submitted;
  uint64_t delivered = 0;
  bool finished = false;
  v1::JobEventBatch batch;
  while (!finished && reader->Read(&batch)) {
    shared_->Receive(batch.lamport());
    if (batch.has_submitted() && !submitted) {
      shared_->Receive(batch.submitted().lamport());
      submitted = ToSubmittedJob(batch.submitted());
      if (on_submitted) on_submitted(*submitted);
    }
    for (const v1::JobEvent& ev : batch.events()) {
      ++delivered;
      if (on_event) on_event(ev);
      if (ev.kind() == "job_finished") {
        finished = true;
        ctx.TryCancel();  // the server ends the stream too; no need to wait for it
        break;
      }
    }
  }
  const grpc::Status s = reader->Finish();
  if (finished) return *submitted;
  if (!submitted) {
    // Refused, or the stream broke before the job was accepted (it may have been: only a key
    // makes asking again safe), or a standby answered (it accepts nothing; Submit follows it to
    // the leader), or an older coordinator: the two calls instead.
    const bool unknown_call = s.error_code() == grpc::StatusCode::UNIMPLEMENTED;
    const bool standby = rpc::StandbyAnswer(ctx.GetServerTrailingMetadata()).has_value();
    if (!unknown_call && !standby && (!rpc::MayBeElsewhere(s) || idempotency_key.empty())) {
      return ToStatus(s, target.address);
    }
    auto again = Submit(spec_text, spec_name, idempotency_key, cache);
    if (!again.ok()) return again.status();
    submitted = *again;
    if (on_submitted) on_submitted(*submitted);
    delivered = 0;
  }
  if (Status watched = WatchToEnd(submitted->job_id, on_event, delivered); !watched.ok()) {
    return watched;
  }
  return *submitted;
}

Result<v1::JobStatus> Client::GetJob(const std::string& job, JobParts parts) {
  v1::JobRef req;
  req.set_job(job);
  req.set_with_graph(parts.graph);
  req.set_without_results(!parts.results);
  req.set_lamport(shared_->Send());
  v1::GetJobResponse resp;
  std::string at;
  grpc::Status s = shared_->Call(kUnaryDeadlineS, &at,
                                 [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
                                   return stub.GetJob(&ctx, req, &resp);
                                 });
  if (!s.ok()) return ToStatus(s, at, job);
  shared_->Receive(resp.lamport());
  return std::move(*resp.mutable_job());
}

Result<std::string> Client::Cancel(const std::string& job) {
  v1::JobRef req;
  req.set_job(job);
  req.set_lamport(shared_->Send());
  v1::CancelJobResponse resp;
  std::string at;
  grpc::Status s = shared_->Call(kUnaryDeadlineS, &at,
                                 [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
                                   return stub.CancelJob(&ctx, req, &resp);
                                 });
  if (!s.ok()) return ToStatus(s, at, job);
  shared_->Receive(resp.lamport());
  return resp.state();
}

Result<std::string> Client::Delete(const std::string& job) {
  v1::JobRef req;
  req.set_job(job);
  req.set_lamport(shared_->Send());
  v1::DeleteJobResponse resp;
  std::string at;
  grpc::Status s = shared_->Call(
      kUnaryDeadlineS, &at,
      [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
        return stub.DeleteJob(&ctx, req, &resp);
      },
      [] { return false; });
  if (!s.ok()) return ToStatus(s, at, job);
  shared_->Receive(resp.lamport());
  return resp.job_id();
}

Result<std::vector<v1::JobStatus>> Client::ListJobs() {
  v1::ListJobsRequest req;
  req.set_lamport(shared_->Send());
  v1::ListJobsResponse resp;
  std::string at;
  grpc::Status s = shared_->Call(kUnaryDeadlineS, &at,
                                 [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
                                   return stub.ListJobs(&ctx, req, &resp);
                                 });
  if (!s.ok()) return ToStatus(s, at);
  shared_->Receive(resp.lamport());
  return std::vector<v1::JobStatus>(resp.jobs().begin(), resp.jobs().end());
}

Result<v1::ListTenantsResponse> Client::ListTenants() {
  v1::ListTenantsRequest req;
  req.set_lamport(shared_->Send());
  v1::ListTenantsResponse resp;
  std::string at;
  grpc::Status s = shared_->Call(kUnaryDeadlineS, &at,
                                 [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
                                   return stub.ListTenants(&ctx, req, &resp);
                                 });
  if (!s.ok()) return ToStatus(s, at);
  shared_->Receive(resp.lamport());
  return resp;
}

Result<v1::ListCacheResponse> Client::ListCache(const std::string& key) {
  v1::ListCacheRequest req;
  req.set_key(key);
  req.set_lamport(shared_->Send());
  v1::ListCacheResponse resp;
  std::string at;
  grpc::Status s = shared_->Call(kUnaryDeadlineS, &at,
                                 [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
                                   return stub.ListCache(&ctx, req, &resp);
                                 });
  if (!s.ok()) return ToStatus(s, at);
  shared_->Receive(resp.lamport());
  return resp;
}

Result<uint64_t> Client::RemoveCache(const std::string& key) {
  v1::RemoveCacheRequest req;
  req.set_key(key);
  req.set_lamport(shared_->Send());
  v1::RemoveCacheResponse resp;
  std::string at;
  grpc::Status s = shared_->Call(kUnaryDeadlineS, &at,
                                 [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
                                   return stub.RemoveCache(&ctx, req, &resp);
                                 });
  if (!s.ok()) return ToStatus(s, at);
  shared_->Receive(resp.lamport());
  return resp.removed();
}

Result<std::vector<v1::WorkerInfo>> Client::ListWorkers(std::string* coordinator_version,
                                                        bool* insecure_plaintext) {
  v1::ListWorkersRequest req;
  req.set_lamport(shared_->Send());
  v1::ListWorkersResponse resp;
  std::string at;
  grpc::Status s = shared_->Call(kUnaryDeadlineS, &at,
                                 [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
                                   return stub.ListWorkers(&ctx, req, &resp);
                                 });
  if (!s.ok()) return ToStatus(s, at);
  shared_->Receive(resp.lamport());
  if (coordinator_version) *coordinator_version = resp.coordinator_version();
  if (insecure_plaintext) *insecure_plaintext = resp.insecure_plaintext();
  return std::vector<v1::WorkerInfo>(resp.workers().begin(), resp.workers().end());
}

std::unique_ptr<JobWatch> Client::Watch(const std::string& job, uint64_t from_lamport,
                                        EventCallback on_event, DoneCallback on_done,
                                        int reconnect_for_s) {
  return std::make_unique<WatchThread>(shared_, job, from_lamport, std::move(on_event),
                                       std::move(on_done), reconnect_for_s);
}

Result<v1::JobStatus> Client::WaitForCompletion(const std::string& job, EventCallback on_event) {
  auto status = GetJob(job);
  if (!status.ok() || IsFinishedJobState(status->state())) return status;
  // Watch by id: a name could be reused by a later submission meanwhile.
  const std::string id = status->job_id().empty() ? job : status->job_id();
  if (Status watched = WatchToEnd(id, std::move(on_event)); !watched.ok()) return watched;
  return GetJob(id);
}

Status Client::WatchToEnd(const std::string& id, EventCallback on_event, uint64_t skip) {
  std::promise<Status> done;
  auto watch = Watch(
      id, 0,
      [&](const v1::JobEvent& ev) {
        if (skip > 0) {
          --skip;
        } else if (on_event) {
          on_event(ev);
        }
      },
      [&done](const Status& s) { done.set_value(s); });
  Status watched = done.get_future().get();
  watch->Join();
  return watched;
}

Status Client::ReadLog(const std::string& job, const std::string& card, bool follow,
                       const LogCallback& on_chunk) {
  return ReadLogChunks(job, card, follow, [&](const v1::LogChunk& chunk) {
    if (!chunk.card_ended()) on_chunk(chunk.stream(), chunk.data());
  });
}

Status Client::ReadLogChunks(const std::string& job, const std::string& card, bool follow,
                             const std::function<void(const v1::LogChunk&)>& on_chunk) {
  v1::ReadLogRequest req;
  req.set_job(job);
  req.set_card(card);
  req.set_follow(follow);
  req.set_lamport(shared_->Send());
  bool delivered = false;  // a stream that delivered chunks is not repeated (they would repeat)
  std::string at;
  grpc::Status s = shared_->Call(
      follow || card.empty() ? 0 : kStreamDeadlineS, &at,
      [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
        auto reader = stub.ReadLog(&ctx, req);
        v1::LogChunk chunk;
        while (reader->Read(&chunk)) {
          shared_->Receive(chunk.lamport());
          delivered = true;
          on_chunk(chunk);
        }
        return reader->Finish();
      },
      [&] { return !delivered; });
  // NOT_FOUND here may be about the card, which the server's message names.
  if (s.error_code() == grpc::StatusCode::NOT_FOUND && !s.error_message().empty()) {
    return Status::NotFound(s.error_message());
  }
  return ToStatus(s, at, job);
}

Result<std::string> Client::GetTrace(const std::string& job) {
  v1::JobRef req;
  req.set_job(job);
  req.set_lamport(shared_->Send());
  std::string text, at;
  grpc::Status s = shared_->Call(kStreamDeadlineS, &at,
                                 [&](v1::Coordinator::Stub& stub, grpc::ClientContext& ctx) {
                                   text.clear();  // a repeated stream starts over
                                   auto reader = stub.GetTrace(&ctx, req);
                                   v1::TraceChunk chunk;
                                   while (reader->Read(&chunk)) {
                                     shared_->Receive(chunk.lamport());
                                     text += chunk.data();
                                   }
                                   return reader->Finish();
                                 });
  if (!s.ok()) return ToStatus(s, at, job);
  return text;
}

}  // namespace hollerith
