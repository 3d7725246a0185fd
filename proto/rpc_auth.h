// gRPC plumbing shared by the daemons and the client: bearer-token metadata, message size limits,
// and plaintext channel creation (rpc_credentials.h builds TLS ones; rpc_authorizer.h decides who
// may call what).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>

namespace hollerith::rpc {

inline constexpr int kMaxMessageBytes = 256 << 20;  // a 1M-card spec fits; more is rejected
inline constexpr const char* kAuthHeader = "authorization";

// The token of the call's "authorization: Bearer <token>" header; "" if it has none.
std::string_view BearerToken(const grpc::ServerContextBase& ctx);
// UNAUTHENTICATED unless the call carries "authorization: Bearer <token>" equal to `token`
// (compared in constant time).
grpc::Status CheckBearer(const grpc::ServerContextBase& ctx, const std::string& token);
// Adds the header; nothing for an empty token (TLS: the certificate is the credential).
void AttachBearer(grpc::ClientContext& ctx, const std::string& token);
// An insecure channel (loopback / trusted network; the token authenticates) with our size limits.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

}  // namespace hollerith::rpc
