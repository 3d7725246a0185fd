// Status <-> grpc::Status at the RPC edge: the coordinator's and worker's logic speak Status;
// only reactors, outboxes and clients see gRPC's type. The codes are the same numbers.
#pragma once

#include <grpcpp/grpcpp.h>

#include "common/base/status.h"

namespace hollerith::rpc {

inline grpc::Status ToGrpcStatus(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message());
}

inline Status FromGrpcStatus(const grpc::Status& s) {
  if (s.ok()) return Status::Ok();
  return Status::Error(static_cast<StatusCode>(s.error_code()), s.error_message());
}

}  // namespace hollerith::rpc
