// Status <-> grpc::Status at the RPC edge: the coordinator's and worker's logic speak Status;
// only reactors, outboxes and clients see gRPC's type. The codes are the same numbers.
#pragma once

#include <grpcpp/grpcpp.h>

#include "common/base/status.h"

namespace hollerith::rpc {

// A status message travels in a response header, and a client refuses headers over 8 KiB (it
// would see RESOURCE_EXHAUSTED instead of the error): longer messages are cut.
inline constexpr size_t kMaxStatusMessageBytes = 7600;

inline grpc::Status ToGrpcStatus(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  std::string message = s.message();
  if (message.size() > kMaxStatusMessageBytes) {
    message.resize(kMaxStatusMessageBytes);
    message += " [cut]";
  }
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::move(message));
}

inline Status FromGrpcStatus(const grpc::Status& s) {
  if (s.ok()) return Status::Ok();
  return Status::Error(static_cast<StatusCode>(s.error_code()), s.error_message());
}

}  // namespace hollerith::rpc
