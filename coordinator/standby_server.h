// A standby coordinator's gRPC server. While another coordinator leads (PostgreSQL store), the
// standby listens where it will serve once it leads, and answers every call, once its credential
// checks out, with UNAVAILABLE "not the leader; the leader is ADDR" and the trailing metadata that
// clients and workers follow (proto/rpc_leader.h). Knowing no more than the leader's address, it
// serves nothing else. At takeover it stops and the real server listens on the same port.
#pragma once

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>

#include "common/base/status.h"
#include "proto/rpc_authorizer.h"

namespace hollerith::coordinator {

class StandbyServer {
 public:
  // Listens on `listen` (port 0: a free one) with the coordinator's credentials.
  static Result<std::unique_ptr<StandbyServer>> Start(
      const std::string& listen, std::shared_ptr<grpc::ServerCredentials> credentials,
      const rpc::Authorizer& auth);
  ~StandbyServer();
  StandbyServer(const StandbyServer&) = delete;
  StandbyServer& operator=(const StandbyServer&) = delete;

  int port() const { return port_; }
  // The leader's address, as the lease names it ("": none known).
  void SetLeader(const std::string& address);
  // Ends every call and frees the port.
  void Stop();

 private:
  class Answer;
  explicit StandbyServer(const rpc::Authorizer& auth) : service_(*this), auth_(auth) {}
  std::string leader() const;

  class Service : public grpc::CallbackGenericService {
   public:
    explicit Service(StandbyServer& owner) : owner_(owner) {}
    grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

   private:
    StandbyServer& owner_;
  };

  Service service_;
  const rpc::Authorizer& auth_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::string leader_;
};

}  // namespace hollerith::coordinator
