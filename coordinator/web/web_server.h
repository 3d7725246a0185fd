// The coordinator's web view: the job list, a job page (its DAG drawn by stacks, colours that
// change live, a timeline per worker, each card's output) and the JSON and server-sent-event
// endpoints the page reads, over HTTP on its own port (cpp-httplib).
//
// It reaches the coordinator only as a client: through a hollerith::Client (in the daemon, over
// the gRPC server's in-process channel, with the cluster token), so it shows exactly what
// `status`, `watch` and `logs` show and holds no coordinator state of its own. Browsers must
// present the token: the login form sets it as an HttpOnly SameSite=Strict cookie; programs may
// send `Authorization: Bearer TOKEN`.
#pragma once

#include <memory>
#include <string>

#include "cli/client/client.h"
#include "common/base/status.h"

namespace grpc {
class Server;
}

namespace hollerith::web {

class WebServer {
 public:
  // Binds `listen` and serves on threads of its own until Stop. `token` is the cluster token
  // (what a browser must present, and what `client` calls the coordinator with).
  static Result<std::unique_ptr<WebServer>> Start(const std::string& listen, std::string token,
                                                  std::shared_ptr<Client> client);
  // Stops serving (ending open event streams) and waits for every thread it started, which for a
  // card's log may mean until the coordinator's gRPC server has shut down: destroy it after that.
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // "http://HOST:PORT/", with the port actually bound.
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  // Stops accepting and ends open event streams; returns when the listener has stopped.
  void Stop();

  struct Impl;

 private:
  WebServer() = default;
  std::unique_ptr<Impl> impl_;
  std::string url_;
  int port_ = 0;
};

// The coordinator's web view on `listen` (empty: none, nullptr), a client of `server` over its
// in-process channel (no socket, no TLS in between) with the cluster token. When `listen` is
// only the default (`required` false) and cannot be bound, it logs a warning and returns nullptr:
// a second coordinator on a laptop runs without its web view rather than not at all.
Result<std::unique_ptr<WebServer>> StartWebView(grpc::Server& server, const std::string& listen,
                                                const std::string& token, bool required);

}  // namespace hollerith::web
