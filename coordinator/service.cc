#include "coordinator/service.h"

#include <spdlog/spdlog.h>
#include <asio/post.hpp>
#include <fstream>
#include <regex>

#include "coordinator/log_upload_reactor.h"
#include "coordinator/stream_reactors.h"
#include "coordinator/submission.h"
#include "proto/rpc_authorizer.h"
#include "proto/rpc_status.h"

namespace hollerith::coordinator {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr size_t kMaxArtifactBytes = size_t{1} << 30;

bool ValidDigest(const std::string& d) {
  static const std::regex kHex("[0-9a-f]{64}");
  return std::regex_match(d, kHex);
}

using rpc::Role;

// The refusal of a call without the credential for `role` (logged without the credential), or OK.
grpc::Status Refusal(const grpc::CallbackServerContext& ctx, const rpc::Authorizer& auth, Role role,
                     rpc::Caller* caller = nullptr) {
  grpc::Status s = auth.Check(ctx, role, caller);
  if (!s.ok()) spdlog::warn("rejected call from {}: {}", ctx.peer(), s.error_message());
  return s;
}

// Finishes `reactor` with the refusal (and returns true) unless the call may proceed.
template <typename Reactor>
bool Reject(const grpc::CallbackServerContext& ctx, const rpc::Authorizer& auth, Role role,
            Reactor* reactor, rpc::Caller* caller = nullptr) {
  grpc::Status s = Refusal(ctx, auth, role, caller);
  if (s.ok()) return false;
  reactor->Finish(s);
  return true;
}

// A client's stream: refused (true) or authorised and tracked, so that revoking its credential
// ends it.
template <typename Msg>
bool RejectOrTrack(grpc::CallbackServerContext* ctx, rpc::Authorizer& auth, Role role,
                   OutboxWriter<Msg>* writer, std::string* identity = nullptr) {
  rpc::Caller caller;
  grpc::Status s = Refusal(*ctx, auth, role, &caller);
  if (!s.ok()) {
    writer->Finish(s);
    return true;
  }
  writer->Hold(rpc::TicketHolder(auth.Track(ctx, caller, role)));
  if (identity) *identity = caller.name;
  return false;
}

// A stream refused before it started.
template <typename Base>
class Rejected : public Base {
 public:
  explicit Rejected(const grpc::Status& s) { this->Finish(s); }
  void OnDone() override { delete this; }
};

// Unary calls: authorise, then run `work(identity)` on the loop (the caller's name: "" for the
// shared token) and finish with its Status.
template <typename Work>
grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const rpc::Authorizer& auth,
                                Coordinator& coordinator, Work work) {
  auto* reactor = ctx->DefaultReactor();
  rpc::Caller caller;
  if (Reject(*ctx, auth, Role::kClient, reactor, &caller)) return reactor;
  coordinator.Post([reactor, work = std::move(work), identity = std::move(caller.name)]() mutable {
    reactor->Finish(rpc::ToGrpcStatus(work(identity)));
  });
  return reactor;
}

// An upload streams into the store as it arrives (ArtifactUpload: a chunk in memory at a time),
// checked against the sha256 its first chunk claims.
class UploadReactor : public grpc::ServerReadReactor<v1::ArtifactChunk> {
 public:
  UploadReactor(ArtifactStore& store, v1::UploadArtifactResponse* resp,
                prometheus::Counter* bytes_received, rpc::TicketHolder ticket)
      : upload_(store, kMaxArtifactBytes),
        resp_(resp),
        bytes_received_(bytes_received),
        ticket_(std::move(ticket)) {
    StartRead(&chunk_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Complete();
      return;
    }
    if (Status s = upload_.Add(chunk_.sha256(), chunk_.data()); !s.ok()) {
      spdlog::warn("artifact upload rejected: {}", s.message());
      Finish(rpc::ToGrpcStatus(s));
      return;
    }
    StartRead(&chunk_);
  }
  void OnDone() override { delete this; }

 private:
  void Complete() {
    auto digest = upload_.Finish();
    if (!digest.ok()) {
      spdlog::warn("artifact upload rejected: {}", digest.message());
      Finish(rpc::ToGrpcStatus(digest.status()));
      return;
    }
    if (bytes_received_) bytes_received_->Increment(static_cast<double>(upload_.bytes()));
    resp_->set_sha256(*digest);
    Finish(grpc::Status::OK);
  }

  ArtifactUpload upload_;
  v1::UploadArtifactResponse* resp_;
  prometheus::Counter* bytes_received_;
  rpc::TicketHolder ticket_;
  v1::ArtifactChunk chunk_;
};

}  // namespace

Service::Service(Coordinator& coordinator, ArtifactStore& artifacts, rpc::Authorizer& auth,
                 SpecLimits spec_limits, bool insecure_plaintext)
    : coordinator_(coordinator),
      artifacts_(artifacts),
      auth_(auth),
      spec_limits_(spec_limits),
      insecure_plaintext_(insecure_plaintext) {}

grpc::ServerUnaryReactor* Service::SubmitJob(grpc::CallbackServerContext* ctx,
                                             const v1::SubmitJobRequest* req,
                                             v1::SubmitJobResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  rpc::Caller caller;
  if (Reject(*ctx, auth_, Role::kClient, reactor, &caller)) return reactor;
  auto spec = ParseSubmission(*req, spec_limits_);
  if (!spec.ok()) {
    reactor->Finish(rpc::ToGrpcStatus(spec.status()));
    return reactor;
  }
  coordinator_.Post([this, reactor, req, resp, spec = *spec, identity = caller.name] {
    reactor->Finish(rpc::ToGrpcStatus(coordinator_.Submit(spec, *req, resp, identity)));
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::JobEventBatch>* Service::SubmitAndWatch(
    grpc::CallbackServerContext* ctx, const v1::SubmitJobRequest* req) {
  auto* writer = new OutboxWriter<v1::JobEventBatch>();
  std::string identity;
  if (RejectOrTrack(ctx, auth_, Role::kClient, writer, &identity)) return writer;
  auto spec = ParseSubmission(*req, spec_limits_);
  if (!spec.ok()) {
    writer->outbox()->Close(spec.status());
    return writer;
  }
  // A copy: a stream cancelled before this runs is over, and its request with it.
  coordinator_.Post([this, out = writer->outbox(), req = *req, spec = *spec, identity] {
    v1::JobEventBatch first;
    v1::SubmitJobResponse* submitted = first.mutable_submitted();
    Status s = coordinator_.Submit(spec, req, submitted, identity);
    if (!s.ok()) {
      out->Close(s);
      return;
    }
    first.set_lamport(submitted->lamport());
    const std::string job = submitted->job_id();
    out->Push(std::move(first));
    if (s = coordinator_.Watch(job, 0, out); !s.ok()) out->Close(s);
  });
  return writer;
}

grpc::ServerUnaryReactor* Service::GetJob(grpc::CallbackServerContext* ctx, const v1::JobRef* req,
                                          v1::GetJobResponse* resp) {
  return Unary(ctx, auth_, coordinator_, [this, req, resp](const std::string& identity) {
    coordinator_.clock().Receive(req->lamport());
    if (Status s = coordinator_.CheckAccess(req->job(), identity); !s.ok()) return s;
    Status s = coordinator_.GetJob(req->job(), resp->mutable_job(), req->with_graph(),
                                   !req->without_results());
    resp->set_lamport(coordinator_.clock().Tick());
    return s;
  });
}

grpc::ServerUnaryReactor* Service::DeleteJob(grpc::CallbackServerContext* ctx,
                                             const v1::JobRef* req, v1::DeleteJobResponse* resp) {
  return Unary(ctx, auth_, coordinator_, [this, req, resp](const std::string& identity) {
    coordinator_.clock().Receive(req->lamport());
    if (Status s = coordinator_.CheckAccess(req->job(), identity); !s.ok()) return s;
    return coordinator_.Delete(req->job(), resp);
  });
}

grpc::ServerUnaryReactor* Service::CancelJob(grpc::CallbackServerContext* ctx,
                                             const v1::JobRef* req, v1::CancelJobResponse* resp) {
  return Unary(ctx, auth_, coordinator_, [this, req, resp](const std::string& identity) {
    coordinator_.clock().Receive(req->lamport());
    if (Status s = coordinator_.CheckAccess(req->job(), identity); !s.ok()) return s;
    return coordinator_.Cancel(req->job(), resp);
  });
}

grpc::ServerUnaryReactor* Service::ListJobs(grpc::CallbackServerContext* ctx,
                                            const v1::ListJobsRequest* req,
                                            v1::ListJobsResponse* resp) {
  return Unary(ctx, auth_, coordinator_, [this, req, resp](const std::string& identity) {
    coordinator_.clock().Receive(req->lamport());
    coordinator_.ListJobs(resp, identity);
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* Service::ListWorkers(grpc::CallbackServerContext* ctx,
                                               const v1::ListWorkersRequest* req,
                                               v1::ListWorkersResponse* resp) {
  return Unary(ctx, auth_, coordinator_, [this, req, resp](const std::string& identity) {
    coordinator_.clock().Receive(req->lamport());
    coordinator_.ListWorkers(resp, identity);
    resp->set_insecure_plaintext(insecure_plaintext_);
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* Service::ListTenants(grpc::CallbackServerContext* ctx,
                                               const v1::ListTenantsRequest* req,
                                               v1::ListTenantsResponse* resp) {
  return Unary(ctx, auth_, coordinator_, [this, req, resp](const std::string&) {
    coordinator_.clock().Receive(req->lamport());
    coordinator_.ListTenants(resp);
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* Service::ListCache(grpc::CallbackServerContext* ctx,
                                             const v1::ListCacheRequest* req,
                                             v1::ListCacheResponse* resp) {
  return Unary(ctx, auth_, coordinator_, [this, req, resp](const std::string& identity) {
    return coordinator_.ListCache(*req, identity, resp);
  });
}

grpc::ServerUnaryReactor* Service::RemoveCache(grpc::CallbackServerContext* ctx,
                                               const v1::RemoveCacheRequest* req,
                                               v1::RemoveCacheResponse* resp) {
  return Unary(ctx, auth_, coordinator_, [this, req, resp](const std::string& identity) {
    return coordinator_.RemoveCache(*req, identity, resp);
  });
}

grpc::ServerWriteReactor<v1::JobEventBatch>* Service::WatchJob(grpc::CallbackServerContext* ctx,
                                                               const v1::WatchJobRequest* req) {
  auto* writer = new OutboxWriter<v1::JobEventBatch>();
  std::string identity;
  if (RejectOrTrack(ctx, auth_, Role::kClient, writer, &identity)) return writer;
  coordinator_.Post([this, out = writer->outbox(), job = req->job(), from = req->from_lamport(),
                     lamport = req->lamport(), identity] {
    coordinator_.clock().Receive(lamport);
    Status s = coordinator_.CheckAccess(job, identity);
    if (s.ok()) s = coordinator_.Watch(job, from, out);
    if (!s.ok()) out->Close(s);
  });
  return writer;
}

grpc::ServerWriteReactor<v1::LogChunk>* Service::ReadLog(grpc::CallbackServerContext* ctx,
                                                         const v1::ReadLogRequest* req) {
  auto* writer = new OutboxWriter<v1::LogChunk>();
  std::string identity;
  if (RejectOrTrack(ctx, auth_, Role::kClient, writer, &identity)) return writer;
  coordinator_.Post([this, out = writer->outbox(), req = *req, identity] {
    Status s = coordinator_.CheckAccess(req.job(), identity);
    if (s.ok()) s = coordinator_.ReadLog(req, out);
    if (!s.ok()) out->Close(s);
  });
  return writer;
}

grpc::ServerWriteReactor<v1::TraceChunk>* Service::GetTrace(grpc::CallbackServerContext* ctx,
                                                            const v1::JobRef* req) {
  auto* writer = new OutboxWriter<v1::TraceChunk>();
  std::string identity;
  if (RejectOrTrack(ctx, auth_, Role::kClient, writer, &identity)) return writer;
  coordinator_.Post(
      [this, out = writer->outbox(), job = req->job(), lamport = req->lamport(), identity] {
        coordinator_.clock().Receive(lamport);
        std::string json;
        Status s = coordinator_.CheckAccess(job, identity);
        if (s.ok()) s = coordinator_.RenderTrace(job, &json);
        if (s.ok()) {
          for (size_t off = 0; off < json.size(); off += kChunk) {
            v1::TraceChunk chunk;
            chunk.set_data(json.substr(off, kChunk));
            chunk.set_lamport(coordinator_.clock().now());
            out->Push(std::move(chunk));
          }
        }
        out->Close(s);
      });
  return writer;
}

grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>* Service::Session(
    grpc::CallbackServerContext* ctx) {
  rpc::Caller caller;
  grpc::Status s = Refusal(*ctx, auth_, Role::kWorker, &caller);
  if (!s.ok()) {
    return new Rejected<grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>>(s);
  }
  // With certificates, a worker is its certificate's common name and cannot pose as another.
  return new SessionReactor(coordinator_, ctx->peer(), auth_.tls() ? caller.name : "",
                            rpc::TicketHolder(auth_.Track(ctx, caller, Role::kWorker)));
}

grpc::ServerReadReactor<v1::ArtifactChunk>* Service::UploadArtifact(
    grpc::CallbackServerContext* ctx, v1::UploadArtifactResponse* resp) {
  rpc::Caller caller;
  grpc::Status s = Refusal(*ctx, auth_, Role::kWorker, &caller);
  if (!s.ok()) return new Rejected<grpc::ServerReadReactor<v1::ArtifactChunk>>(s);
  return new UploadReactor(artifacts_, resp, metrics_ ? metrics_->artifact_bytes_received : nullptr,
                           rpc::TicketHolder(auth_.Track(ctx, caller, Role::kWorker)));
}

grpc::ServerReadReactor<v1::LogUpload>* Service::UploadLog(grpc::CallbackServerContext* ctx,
                                                           v1::UploadLogResponse* resp) {
  rpc::Caller caller;
  grpc::Status s = Refusal(*ctx, auth_, Role::kWorker, &caller);
  if (!s.ok()) return new Rejected<grpc::ServerReadReactor<v1::LogUpload>>(s);
  return new LogUploadReactor(coordinator_, resp, metrics_ ? metrics_->log_bytes_stored : nullptr,
                              rpc::TicketHolder(auth_.Track(ctx, caller, Role::kWorker)));
}

grpc::ServerWriteReactor<v1::ArtifactChunk>* Service::FetchArtifact(
    grpc::CallbackServerContext* ctx, const v1::FetchArtifactRequest* req) {
  auto* writer = new OutboxWriter<v1::ArtifactChunk>();
  if (RejectOrTrack(ctx, auth_, Role::kWorker, writer)) return writer;
  auto out = writer->outbox();
  if (!ValidDigest(req->sha256())) {
    out->Close(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "not a sha256 digest"));
    return writer;
  }
  if (!artifacts_.Has(req->sha256())) {
    out->Close(grpc::Status(grpc::StatusCode::NOT_FOUND, "no artifact " + req->sha256()));
    return writer;
  }
  std::ifstream in(artifacts_.PathOf(req->sha256()), std::ios::binary);
  std::string buf(kChunk, '\0');
  bool first = true;
  size_t sent = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = in.gcount();
    if (n <= 0 && !first) break;
    v1::ArtifactChunk chunk;
    if (first) chunk.set_sha256(req->sha256());
    chunk.set_data(buf.data(), static_cast<size_t>(n));
    out->Push(std::move(chunk));
    sent += static_cast<size_t>(n);
    first = false;
  }
  if (metrics_) metrics_->artifact_bytes_sent->Increment(static_cast<double>(sent));
  out->Close(grpc::Status::OK);
  return writer;
}

}  // namespace hollerith::coordinator
