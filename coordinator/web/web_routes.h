// The web view's routes: pages, login, JSON and server-sent events. Internal to web_server.cc.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>

#include "cli/client/client.h"
#include "coordinator/web/background_threads.h"
#include "coordinator/web/web_actions.h"
#include "coordinator/web/web_auth.h"

namespace grpc {
class Channel;
}

namespace hollerith::web {

struct RouteContext {
  TokenCheck accepts;                      // who may use the web view
  std::shared_ptr<grpc::Channel> channel;  // to the coordinator
  // A client of the coordinator calling with `token`, the one the request presented: the
  // coordinator authorises (and on revocation ends) the web view's calls as the browser's own.
  std::shared_ptr<Client> ClientFor(const std::string& token) const;
  CsrfGuard csrf;                     // what a state-changing request must carry
  std::atomic<bool> stopping{false};  // set by Stop: streams end
  BackgroundThreads threads;          // log readers (ReadLog cannot be cancelled from here)
};

// Registers every route on `server`; `ctx` outlives it.
void AddRoutes(httplib::Server& server, RouteContext& ctx);

}  // namespace hollerith::web
