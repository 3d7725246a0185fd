// Who may call what. Every call of the coordinator is authenticated (UNAUTHENTICATED without a
// valid credential) and then authorised for the role it needs (PERMISSION_DENIED otherwise):
//   worker: Session, UploadArtifact, FetchArtifact, UploadLog;
//   client: SubmitJob, SubmitAndWatch, GetJob, WatchJob, CancelJob, DeleteJob, ListJobs,
//           ListWorkers, ListTenants, ListCache, RemoveCache (the caller's tenant's entries only),
//           ReadLog, GetTrace.
// With TLS the role is the certificate's (URI subjectAltName hollerith://role/ROLE, see
// common/pki) and the caller's name its common name; without TLS the bearer token's: a token
// from --worker-token-file is a worker, one from --client-token-file a client, and the token of
// --token-file is both (what single-token clusters have always had). Reload() re-reads the token
// files (SIGHUP) and cancels the tracked streams whose token no longer grants their role.
// Under TLS a call without a certificate can only come over the in-process channel (the web
// view); it is authenticated by token as without TLS.
// GrantsClient() checks a token of the HTTP endpoints (a metrics scrape's password, the web
// view's login): true if it grants the client role (with TLS too, where token files, if given,
// serve nothing else). Like every check it follows Reload().
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace hollerith::rpc {

enum class Role : unsigned { kNone = 0, kWorker = 1, kClient = 2 };
const char* RoleName(Role role);

struct TokenFiles {
  std::string both;    // --token-file: worker and client
  std::string worker;  // --worker-token-file
  std::string client;  // --client-token-file
  // --named-token-file: client tokens with names, one `NAME:TOKEN` per line ('#' comments): the
  // caller's name is its tenant (coordinator/tenants.h).
  std::string named;
};

// One stream of the coordinator, tracked so that revoking its credential ends it.
class StreamTicket {
 public:
  explicit StreamTicket(grpc::ServerContextBase* ctx) : ctx_(ctx) {}
  // From the reactor's OnDone: the context is about to go away.
  void Done();
  // Cancels the stream if it is still running (any thread that holds no other lock).
  void Cancel();

 private:
  std::recursive_mutex mu_;  // Cancel may run the reactor's OnDone inline on this thread
  grpc::ServerContextBase* ctx_;
};

// Ends the ticket's stream tracking when the reactor holding it is destroyed.
struct TicketHolder {
  std::shared_ptr<StreamTicket> ticket;
  TicketHolder() = default;
  explicit TicketHolder(std::shared_ptr<StreamTicket> t) : ticket(std::move(t)) {}
  TicketHolder(TicketHolder&&) = default;
  TicketHolder& operator=(TicketHolder&&) = default;
  ~TicketHolder() {
    if (ticket) ticket->Done();
  }
};

struct Caller {
  unsigned roles = 0;  // bits of Role
  std::string name;    // the certificate's common name; "" with tokens
  std::string token;   // the bearer token that authenticated the call (never logged)
};

class Authorizer {
 public:
  // Certificates decide (the server's TLS verified them against the cluster CA). The token files
  // (any may be empty) only guard metrics scrapes.
  static Result<std::unique_ptr<Authorizer>> ForCertificates(TokenFiles scrape_tokens = {});
  // Tokens decide; every given file must be readable and non-empty.
  static Result<std::unique_ptr<Authorizer>> ForTokens(TokenFiles files);

  bool tls() const { return tls_; }
  bool has_tokens() const {
    return !files_.both.empty() || !files_.worker.empty() || !files_.client.empty() ||
           !files_.named.empty();
  }
  // True if `token` grants the client role (metrics scrapes, the web view; any thread).
  bool GrantsClient(std::string_view token) const;
  // OK, UNAUTHENTICATED (no or unknown credential) or PERMISSION_DENIED (wrong role). The message
  // names the role, never the credential. `caller` (if given) receives who called.
  grpc::Status Check(const grpc::ServerContextBase& ctx, Role needed,
                     Caller* caller = nullptr) const;
  // Tracks an authorised stream; hold the ticket in the reactor (TicketHolder) until OnDone.
  std::shared_ptr<StreamTicket> Track(grpc::ServerContextBase* ctx, const Caller& caller,
                                      Role needed);
  // Re-reads the token files. On success, streams whose token lost its role are cancelled (on
  // the calling thread: call it from one that holds no lock of the coordinator); returns how many
  // (with TLS only the web view's in-process streams rest on a token).
  Result<size_t> Reload();

 private:
  struct Tokens {
    struct Entry {
      std::string token;
      unsigned roles = 0;
      std::string name;  // "" for the unnamed files
    };
    std::vector<Entry> entries;
  };
  struct Tracked {
    std::weak_ptr<StreamTicket> ticket;
    std::string token;
    Role needed;
  };
  static Result<std::shared_ptr<const Tokens>> ReadTokens(const TokenFiles& files);
  unsigned RolesOfToken(const Tokens& tokens, std::string_view token,
                        std::string* name = nullptr) const;
  std::shared_ptr<const Tokens> tokens() const;

  bool tls_ = false;
  TokenFiles files_;
  mutable std::mutex mu_;
  std::shared_ptr<const Tokens> tokens_;
  std::vector<Tracked> tracked_;
  // Ended streams are swept from tracked_ when it reaches this size (then twice what is left):
  // a sweep at every new stream made 10,000 workers connecting cost 50 million visits.
  size_t sweep_at_ = 64;
};

}  // namespace hollerith::rpc
