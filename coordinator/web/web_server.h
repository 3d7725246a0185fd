// The coordinator's web view: the job list, a job page (its DAG drawn by stacks, colours that
// change live, a timeline per worker, each card's output) and the JSON and server-sent-event
// endpoints the page reads, over HTTP on its own port (cpp-httplib).
//
// It reaches the coordinator only as a client: through a hollerith::Client (in the daemon, over
// the gRPC server's in-process channel) that calls with the token the request presented, so it
// shows exactly what `status`, `watch` and `logs` show, holds no coordinator state of its own,
// and a token revoked on SIGHUP loses the web view too (its open event streams end). Browsers
// must present a client token: the login form sets it as an HttpOnly SameSite=Strict cookie;
// programs may send `Authorization: Bearer TOKEN`.
#pragma once

#include <memory>
#include <string>

#include "common/base/status.h"
#include "coordinator/web/web_auth.h"

namespace grpc {
class Channel;
class Server;
}  // namespace grpc

namespace hollerith::web {

class WebServer {
 public:
  // Binds `listen` and serves on threads of its own until Stop. A request is served if the token
  // it presents passes `accepts`, and calls the coordinator over `channel` with that token.
  static Result<std::unique_ptr<WebServer>> Start(const std::string& listen, TokenCheck accepts,
                                                  std::shared_ptr<grpc::Channel> channel);
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
// in-process channel (no socket, no TLS in between) for the tokens `accepts` takes. When `listen`
// is only the default (`required` false) and cannot be bound, it logs a warning and returns
// nullptr: a second coordinator on a laptop runs without its web view rather than not at all.
Result<std::unique_ptr<WebServer>> StartWebView(grpc::Server& server, const std::string& listen,
                                                TokenCheck accepts, bool required);

}  // namespace hollerith::web
