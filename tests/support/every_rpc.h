// Every RPC of service Coordinator, called once as a client or worker would, for tests of who
// may call what. SubmitJob and SubmitAndWatch submit a job whose card would create `marker`;
// Session says hello and expects nothing back (it is meant to be refused).
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <vector>

#include "hollerith.grpc.pb.h"
#include "proto/rpc_authorizer.h"

namespace hollerith::testing {

using rpc::Role;

struct Call {
  Role role;  // the role it needs
  const char* name;
  std::function<grpc::Status(v1::Coordinator::Stub&, grpc::ClientContext&)> invoke;
};

std::vector<Call> EveryRpc(const std::string& marker);
// The number of methods of service Coordinator (the table must cover them all).
size_t CoordinatorMethodCount();

}  // namespace hollerith::testing
