#include "worker/channel.h"

#include "proto/rpc_auth.h"

namespace hollerith::worker {

std::shared_ptr<grpc::Channel> MakeCoordinatorChannel(const std::string& address,
                                                      const rpc::TlsMaterial* tls) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  // Held stacks wait for the restarted coordinator's claim window (two leases): reconnect within
  // a second of it being back.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return rpc::MakeChannel(address, rpc::ChannelCredentials(tls), args);
}

}  // namespace hollerith::worker
