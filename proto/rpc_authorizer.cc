#include "proto/rpc_authorizer.h"

#include <grpc/grpc_security_constants.h>

#include <algorithm>

#include "common/auth/auth_token.h"
#include "common/pki/pki.h"
#include "proto/rpc_auth.h"

namespace hollerith::rpc {
namespace {

constexpr unsigned Bit(Role r) { return static_cast<unsigned>(r); }

unsigned RolesOfCertificate(const grpc::AuthContext& auth, std::string* name) {
  unsigned roles = 0;
  for (const char* property : {GRPC_X509_SAN_PROPERTY_NAME, GRPC_PEER_URI_PROPERTY_NAME}) {
    for (const auto& value : auth.FindPropertyValues(property)) {
      const auto role = pki::RoleFromUri(std::string_view(value.data(), value.size()));
      if (role == pki::Role::kWorker) roles |= Bit(Role::kWorker);
      if (role == pki::Role::kClient) roles |= Bit(Role::kClient);
    }
  }
  const auto cn = auth.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (!cn.empty()) *name = std::string(cn.front().data(), cn.front().size());
  return roles;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kWorker:
      return "worker";
    case Role::kClient:
      return "client";
    case Role::kNone:
      break;
  }
  return "none";
}

void StreamTicket::Done() {
  std::lock_guard lock(mu_);
  ctx_ = nullptr;
}

void StreamTicket::Cancel() {
  std::lock_guard lock(mu_);
  if (ctx_ != nullptr) ctx_->TryCancel();
}

Result<std::unique_ptr<Authorizer>> Authorizer::ForCertificates(TokenFiles scrape_tokens) {
  std::unique_ptr<Authorizer> a(new Authorizer());
  a->tls_ = true;
  a->files_ = std::move(scrape_tokens);
  if (a->has_tokens()) {
    auto tokens = ReadTokens(a->files_);
    if (!tokens.ok()) return tokens.status();
    a->tokens_ = std::move(*tokens);
  } else {
    a->tokens_ = std::make_shared<const Tokens>();
  }
  return a;
}

Result<std::unique_ptr<Authorizer>> Authorizer::ForTokens(TokenFiles files) {
  auto tokens = ReadTokens(files);
  if (!tokens.ok()) return tokens.status();
  std::unique_ptr<Authorizer> a(new Authorizer());
  a->files_ = std::move(files);
  a->tokens_ = std::move(*tokens);
  return a;
}

Result<std::shared_ptr<const Authorizer::Tokens>> Authorizer::ReadTokens(const TokenFiles& files) {
  auto tokens = std::make_shared<Tokens>();
  for (auto [path, roles] : {std::pair{&files.both, Bit(Role::kWorker) | Bit(Role::kClient)},
                             std::pair{&files.worker, Bit(Role::kWorker)},
                             std::pair{&files.client, Bit(Role::kClient)}}) {
    if (path->empty()) continue;
    auto token = LoadToken(*path);
    if (!token.ok()) return token.status();
    tokens->entries.push_back({std::move(*token), roles, ""});
  }
  if (!files.named.empty()) {
    auto named = LoadNamedTokens(files.named);
    if (!named.ok()) return named.status();
    for (auto& [name, token] : *named) {
      tokens->entries.push_back({std::move(token), Bit(Role::kClient), std::move(name)});
    }
  }
  if (tokens->entries.empty()) return Status::InvalidArgument("no token file");
  return std::shared_ptr<const Tokens>(std::move(tokens));
}

unsigned Authorizer::RolesOfToken(const Tokens& tokens, std::string_view token,
                                  std::string* name) const {
  unsigned roles = 0;
  if (token.empty()) return 0;
  // Every entry is compared (in constant time each): the same file may be given for two roles.
  for (const auto& e : tokens.entries) {
    if (!ConstantTimeEquals(token, e.token)) continue;
    roles |= e.roles;
    if (name && !e.name.empty()) *name = e.name;
  }
  return roles;
}

std::shared_ptr<const Authorizer::Tokens> Authorizer::tokens() const {
  std::lock_guard lock(mu_);
  return tokens_;
}

bool Authorizer::GrantsClient(std::string_view token) const {
  return (RolesOfToken(*tokens(), token) & Bit(Role::kClient)) != 0;
}

grpc::Status Authorizer::Check(const grpc::ServerContextBase& ctx, Role needed,
                               Caller* caller) const {
  Caller who;
  auto auth = tls_ ? ctx.auth_context() : nullptr;
  // Under TLS every connection from the network presents a verified certificate (the handshake
  // requires one); a call without one came over the in-process channel (the web view), which
  // authenticates with a token as without TLS.
  const bool certified = auth && auth->IsPeerAuthenticated();
  if (tls_ && certified) {
    who.roles = RolesOfCertificate(*auth, &who.name);
  } else if (tls_ && !has_tokens()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no client certificate");
  } else {
    const std::string_view token = BearerToken(ctx);
    if (token.empty())
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing bearer token");
    who.roles = RolesOfToken(*tokens(), token, &who.name);
    if (who.roles == 0) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid bearer token");
    }
    who.token = std::string(token);
  }
  if ((who.roles & Bit(needed)) == 0) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        std::string("this call needs a ") + RoleName(needed) + " credential");
  }
  if (caller != nullptr) *caller = std::move(who);
  return grpc::Status::OK;
}

std::shared_ptr<StreamTicket> Authorizer::Track(grpc::ServerContextBase* ctx, const Caller& caller,
                                                Role needed) {
  auto ticket = std::make_shared<StreamTicket>(ctx);
  // Certificates are not revoked by a reload (docs/security.md).
  if (caller.token.empty()) return ticket;
  std::lock_guard lock(mu_);
  if (tracked_.size() >= sweep_at_) {
    std::erase_if(tracked_, [](const Tracked& t) { return t.ticket.expired(); });
    sweep_at_ = std::max<size_t>(64, 2 * tracked_.size());
  }
  tracked_.push_back({ticket, caller.token, needed});
  return ticket;
}

Result<size_t> Authorizer::Reload() {
  if (tls_ && !has_tokens()) return size_t{0};
  auto fresh = ReadTokens(files_);
  if (!fresh.ok()) return fresh.status();
  std::vector<std::shared_ptr<StreamTicket>> revoked;
  {
    std::lock_guard lock(mu_);
    tokens_ = *fresh;
    std::erase_if(tracked_, [&](const Tracked& t) {
      auto ticket = t.ticket.lock();
      if (!ticket) return true;
      if ((RolesOfToken(**fresh, t.token) & Bit(t.needed)) != 0) return false;
      revoked.push_back(std::move(ticket));
      return true;
    });
  }
  for (auto& ticket : revoked) ticket->Cancel();  // outside mu_: OnDone may run inline
  return revoked.size();
}

}  // namespace hollerith::rpc
