#include "tests/support/every_rpc.h"

#include <gtest/gtest.h>

namespace hollerith::testing {

using v1::Coordinator;

std::vector<Call> EveryRpc(const std::string& marker) {
  return {
      {Role::kClient, "SubmitJob",
       [marker](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::SubmitJobRequest req;
         req.set_spec("name: sneaky\nstacks:\n  A:\n    cards:\n      - {id: a, run: touch " +
                      marker + "}\n");
         v1::SubmitJobResponse resp;
         return s.SubmitJob(&c, req, &resp);
       }},
      {Role::kClient, "SubmitAndWatch",
       [marker](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::SubmitJobRequest req;
         req.set_spec("name: sneaky\nstacks:\n  A:\n    cards:\n      - {id: a, run: touch " +
                      marker + "}\n");
         auto reader = s.SubmitAndWatch(&c, req);
         v1::JobEventBatch batch;
         while (reader->Read(&batch)) {
         }
         return reader->Finish();
       }},
      {Role::kClient, "GetJob",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::JobRef req;
         v1::GetJobResponse resp;
         return s.GetJob(&c, req, &resp);
       }},
      {Role::kClient, "WatchJob",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::WatchJobRequest req;
         auto reader = s.WatchJob(&c, req);
         v1::JobEventBatch ev;
         while (reader->Read(&ev)) {
         }
         return reader->Finish();
       }},
      {Role::kClient, "CancelJob",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::JobRef req;
         v1::CancelJobResponse resp;
         return s.CancelJob(&c, req, &resp);
       }},
      {Role::kClient, "DeleteJob",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::JobRef req;
         v1::DeleteJobResponse resp;
         return s.DeleteJob(&c, req, &resp);
       }},
      {Role::kClient, "ListJobs",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::ListJobsRequest req;
         v1::ListJobsResponse resp;
         return s.ListJobs(&c, req, &resp);
       }},
      {Role::kClient, "ListWorkers",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::ListWorkersRequest req;
         v1::ListWorkersResponse resp;
         return s.ListWorkers(&c, req, &resp);
       }},
      {Role::kClient, "ListTenants",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::ListTenantsRequest req;
         v1::ListTenantsResponse resp;
         return s.ListTenants(&c, req, &resp);
       }},
      {Role::kClient, "ListCache",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::ListCacheRequest req;
         v1::ListCacheResponse resp;
         return s.ListCache(&c, req, &resp);
       }},
      {Role::kClient, "RemoveCache",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::RemoveCacheRequest req;
         req.set_key("0000");
         v1::RemoveCacheResponse resp;
         return s.RemoveCache(&c, req, &resp);
       }},
      {Role::kClient, "ReadLog",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::ReadLogRequest req;
         auto reader = s.ReadLog(&c, req);
         v1::LogChunk chunk;
         while (reader->Read(&chunk)) {
         }
         return reader->Finish();
       }},
      {Role::kClient, "GetTrace",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::JobRef req;
         auto reader = s.GetTrace(&c, req);
         v1::TraceChunk chunk;
         while (reader->Read(&chunk)) {
         }
         return reader->Finish();
       }},
      {Role::kWorker, "Session",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         auto stream = s.Session(&c);
         v1::WorkerMessage hello;
         hello.mutable_hello()->set_name("intruder");
         hello.mutable_hello()->set_slots(1);
         stream->Write(hello);
         v1::CoordinatorMessage msg;
         bool got = stream->Read(&msg);
         EXPECT_FALSE(got) << "an unauthenticated worker must receive nothing";
         stream->WritesDone();
         return stream->Finish();
       }},
      {Role::kWorker, "UploadArtifact",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::UploadArtifactResponse resp;
         auto writer = s.UploadArtifact(&c, &resp);
         v1::ArtifactChunk chunk;
         chunk.set_sha256(std::string(64, 'a'));
         chunk.set_data("x");
         writer->Write(chunk);
         writer->WritesDone();
         return writer->Finish();
       }},
      {Role::kWorker, "UploadLog",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::UploadLogResponse resp;
         auto writer = s.UploadLog(&c, &resp);
         v1::LogUpload chunk;
         chunk.set_job_id("job-1");
         chunk.set_data("x");
         writer->Write(chunk);
         writer->WritesDone();
         return writer->Finish();
       }},
      {Role::kWorker, "FetchArtifact",
       [](Coordinator::Stub& s, grpc::ClientContext& c) {
         v1::FetchArtifactRequest req;
         req.set_sha256(std::string(64, 'a'));
         auto reader = s.FetchArtifact(&c, req);
         v1::ArtifactChunk chunk;
         while (reader->Read(&chunk)) {
         }
         return reader->Finish();
       }},
  };
}

size_t CoordinatorMethodCount() {
  return static_cast<size_t>(
      v1::SubmitJobRequest::descriptor()->file()->FindServiceByName("Coordinator")->method_count());
}

}  // namespace hollerith::testing
