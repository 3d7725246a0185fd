#include "coordinator/standby_server.h"

#include "proto/rpc_auth.h"
#include "proto/rpc_leader.h"

namespace hollerith::coordinator {

// One call: refused without a valid credential (a standby tells strangers nothing), else told
// where the leader is.
class StandbyServer::Answer : public grpc::ServerGenericBidiReactor {
 public:
  Answer(grpc::GenericCallbackServerContext* ctx, const StandbyServer& owner) {
    grpc::Status known = owner.auth_.Check(*ctx, rpc::Role::kWorker);
    if (known.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      Finish(known);
      return;
    }
    const std::string leader = owner.leader();
    ctx->AddTrailingMetadata(rpc::kStandbyMetadata, "1");
    if (!leader.empty()) ctx->AddTrailingMetadata(rpc::kLeaderMetadata, leader);
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "not the leader; " + (leader.empty() ? std::string("no leader is known yet")
                                                             : "the leader is " + leader)));
  }
  void OnDone() override { delete this; }
};

grpc::ServerGenericBidiReactor* StandbyServer::Service::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  return new Answer(ctx, owner_);
}

Result<std::unique_ptr<StandbyServer>> StandbyServer::Start(
    const std::string& listen, std::shared_ptr<grpc::ServerCredentials> credentials,
    const rpc::Authorizer& auth) {
  std::unique_ptr<StandbyServer> standby(new StandbyServer(auth));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, std::move(credentials), &standby->port_);
  rpc::ApplyServerLimits(builder);
  builder.RegisterCallbackGenericService(&standby->service_);
  standby->server_ = builder.BuildAndStart();
  if (!standby->server_ || standby->port_ == 0) {
    return Status::Unavailable("cannot listen on " + listen);
  }
  return standby;
}

StandbyServer::~StandbyServer() { Stop(); }

void StandbyServer::SetLeader(const std::string& address) {
  std::lock_guard lock(mu_);
  leader_ = address;
}

std::string StandbyServer::leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

void StandbyServer::Stop() {
  if (!server_) return;
  // Calls in progress have a moment to end with their answer; those still open are cancelled
  // (clients take that as "try again", rpc::MayBeElsewhere). Not longer: the takeover waits.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  server_->Wait();
  server_.reset();
}

}  // namespace hollerith::coordinator
