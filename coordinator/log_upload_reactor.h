// UploadLog: a worker sends one stream of a card's full output after reporting its finish. The
// reactor writes it (on gRPC threads, off the loop) to a temporary file in the job's log dir and
// hands the file to the coordinator's loop (Coordinator::LogUploaded), which keeps or drops it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <prometheus/counter.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>

#include "coordinator/coordinator.h"
#include "hollerith.grpc.pb.h"
#include "proto/rpc_authorizer.h"

namespace hollerith::coordinator {

class LogUploadReactor : public grpc::ServerReadReactor<v1::LogUpload> {
 public:
  // At most this much of one stream is kept (the worker sends no more).
  static constexpr size_t kMaxBytes = size_t{64} << 20;

  LogUploadReactor(Coordinator& coordinator, v1::UploadLogResponse* resp,
                   prometheus::Counter* bytes_stored, rpc::TicketHolder ticket = {});
  void OnReadDone(bool ok) override;
  void OnCancel() override { cancelled_ = true; }
  void OnDone() override;

 private:
  // Ends the call; the file (complete or not) goes to the coordinator, which settles the wait.
  void End(const grpc::Status& status);

  Coordinator& coordinator_;
  prometheus::Counter* bytes_stored_;
  rpc::TicketHolder ticket_;  // revoking the worker's credential ends the upload
  v1::LogUpload piece_;
  v1::LogUpload header_;
  bool have_header_ = false;
  std::filesystem::path temp_;
  std::FILE* file_ = nullptr;
  size_t bytes_ = 0;
  std::atomic<bool> cancelled_{false};  // the worker went away: what arrived is not all of it
};

}  // namespace hollerith::coordinator
