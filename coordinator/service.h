// The gRPC face of the coordinator (callback API). Handlers check the caller's credential and role
// (rpc::Authorizer), decode and
// validate, then post the work onto the coordinator's loop; they never touch its state directly.
// Artifact uploads and downloads go straight to the content-addressed store (files, no core state).
#pragma once

#include <asio/io_context.hpp>
#include <string>

#include "common/artifacts/store.h"
#include "common/spec/parser.h"
#include "coordinator/coordinator.h"
#include "hollerith.grpc.pb.h"
#include "proto/rpc_authorizer.h"

namespace hollerith::coordinator {

class Service final : public v1::Coordinator::CallbackService {
 public:
  Service(Coordinator& coordinator, ArtifactStore& artifacts, rpc::Authorizer& auth,
          SpecLimits spec_limits, bool insecure_plaintext = false);
  // Metrics to update (nullptr: none); set before serving, must outlive the service.
  void SetMetrics(CoordinatorMetrics* metrics) { metrics_ = metrics; }

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* ctx,
                                      const v1::SubmitJobRequest* req,
                                      v1::SubmitJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* ctx, const v1::JobRef* req,
                                   v1::GetJobResponse* resp) override;
  grpc::ServerWriteReactor<v1::JobEventBatch>* WatchJob(grpc::CallbackServerContext* ctx,
                                                        const v1::WatchJobRequest* req) override;
  grpc::ServerWriteReactor<v1::JobEventBatch>* SubmitAndWatch(
      grpc::CallbackServerContext* ctx, const v1::SubmitJobRequest* req) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* ctx, const v1::JobRef* req,
                                      v1::CancelJobResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteJob(grpc::CallbackServerContext* ctx, const v1::JobRef* req,
                                      v1::DeleteJobResponse* resp) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* ctx,
                                     const v1::ListJobsRequest* req,
                                     v1::ListJobsResponse* resp) override;
  grpc::ServerUnaryReactor* ListWorkers(grpc::CallbackServerContext* ctx,
                                        const v1::ListWorkersRequest* req,
                                        v1::ListWorkersResponse* resp) override;
  grpc::ServerUnaryReactor* ListTenants(grpc::CallbackServerContext* ctx,
                                        const v1::ListTenantsRequest* req,
                                        v1::ListTenantsResponse* resp) override;
  grpc::ServerUnaryReactor* ListCache(grpc::CallbackServerContext* ctx,
                                      const v1::ListCacheRequest* req,
                                      v1::ListCacheResponse* resp) override;
  grpc::ServerUnaryReactor* RemoveCache(grpc::CallbackServerContext* ctx,
                                        const v1::RemoveCacheRequest* req,
                                        v1::RemoveCacheResponse* resp) override;
  grpc::ServerWriteReactor<v1::LogChunk>* ReadLog(grpc::CallbackServerContext* ctx,
                                                  const v1::ReadLogRequest* req) override;
  grpc::ServerWriteReactor<v1::TraceChunk>* GetTrace(grpc::CallbackServerContext* ctx,
                                                     const v1::JobRef* req) override;
  grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>* Session(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerReadReactor<v1::ArtifactChunk>* UploadArtifact(
      grpc::CallbackServerContext* ctx, v1::UploadArtifactResponse* resp) override;
  grpc::ServerWriteReactor<v1::ArtifactChunk>* FetchArtifact(
      grpc::CallbackServerContext* ctx, const v1::FetchArtifactRequest* req) override;
  grpc::ServerReadReactor<v1::LogUpload>* UploadLog(grpc::CallbackServerContext* ctx,
                                                    v1::UploadLogResponse* resp) override;

 private:
  Coordinator& coordinator_;
  ArtifactStore& artifacts_;
  rpc::Authorizer& auth_;
  SpecLimits spec_limits_;
  CoordinatorMetrics* metrics_ = nullptr;
  bool insecure_plaintext_;  // listening beyond loopback without TLS: ListWorkers says so
};

}  // namespace hollerith::coordinator
