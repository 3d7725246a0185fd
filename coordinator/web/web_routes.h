// The web view's routes: pages, login, JSON and server-sent events. Internal to web_server.cc.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>

#include "cli/client/client.h"
#include "coordinator/web/background_threads.h"

namespace hollerith::web {

struct RouteContext {
  std::string token;
  std::shared_ptr<Client> client;
  std::atomic<bool> stopping{false};  // set by Stop: streams end
  BackgroundThreads threads;          // log readers (ReadLog cannot be cancelled from here)
};

// Registers every route on `server`; `ctx` outlives it.
void AddRoutes(httplib::Server& server, RouteContext& ctx);

}  // namespace hollerith::web
