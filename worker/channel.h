// The worker's channel to the coordinator: rpc::MakeChannel's size limits, plus reconnect backoff
// bounded like the session's own (100 ms .. 5 s), so a coordinator that comes back is found within
// seconds instead of gRPC's default of up to two minutes.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "proto/rpc_credentials.h"

namespace hollerith::worker {

// Over TLS when `tls` is given, else plaintext (loopback, or tests).
std::shared_ptr<grpc::Channel> MakeCoordinatorChannel(const std::string& address,
                                                      const rpc::TlsMaterial* tls = nullptr);

}  // namespace hollerith::worker
