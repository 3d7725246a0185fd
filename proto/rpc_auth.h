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
// What one connection may do at once (a worker: its session and a few artifact transfers; a
// client: one call), how long a connection may take to speak HTTP/2 before it is closed, and how
// long one may stay open without a call.
inline constexpr int kMaxStreamsPerConnection = 100;
inline constexpr int kHandshakeTimeoutMs = 10'000;
inline constexpr int kMaxConnectionIdleMs = 5 * 60'000;
// Connections are pinged when quiet this long and dropped when a ping goes unanswered for
// kKeepaliveTimeoutMs: a peer that vanished (power off, cut cable) does not hold a connection.
inline constexpr int kKeepaliveTimeMs = 60'000;
inline constexpr int kKeepaliveTimeoutMs = 20'000;
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
// The server side of those limits: message sizes, streams per connection, handshake and idle
// timeouts, keepalive.
void ApplyServerLimits(grpc::ServerBuilder& builder);

}  // namespace hollerith::rpc
