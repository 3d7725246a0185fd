#include "coordinator/web/web_server.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <thread>

#include "common/base/listen_address.h"
#include "coordinator/web/web_routes.h"
#include "proto/rpc_auth.h"

namespace hollerith::web {

namespace {

// Threads serving requests: each open event stream holds one (a job page holds one or two).
constexpr size_t kServerThreads = 32;

}  // namespace

struct WebServer::Impl {
  RouteContext ctx;
  httplib::Server server;
  std::thread listener;
};

Result<std::unique_ptr<WebServer>> WebServer::Start(const std::string& listen, TokenCheck accepts,
                                                    std::shared_ptr<grpc::Channel> channel) {
  auto ep = ParseListenAddress(listen, "web view address");
  if (!ep.ok()) return ep.status();
  std::unique_ptr<WebServer> web(new WebServer());
  web->impl_ = std::make_unique<Impl>();
  Impl& impl = *web->impl_;
  impl.ctx.accepts = std::move(accepts);
  impl.ctx.channel = std::move(channel);
  impl.server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  // Idle keep-alive connections hold a thread until this runs out (and delay Stop as long).
  impl.server.set_keep_alive_timeout(1);
  impl.server.set_payload_max_length(64 * 1024);
  AddRoutes(impl.server, impl.ctx);
  int port = ep->port;
  if (port == 0) {
    port = impl.server.bind_to_any_port(ep->host);
  } else if (!impl.server.bind_to_port(ep->host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return Status::Unavailable("cannot listen on " + listen + " for the web view");
  }
  web->port_ = port;
  web->url_ = "http://" + ListenAddress{ep->host, port}.HostPort() + "/";
  impl.listener = std::thread([&impl] {
    if (!impl.server.listen_after_bind()) spdlog::error("web view: the listener stopped");
  });
  return web;
}

void WebServer::Stop() {
  if (!impl_ || !impl_->listener.joinable()) return;
  impl_->ctx.stopping = true;
  impl_->server.stop();
  impl_->listener.join();
}

WebServer::~WebServer() {
  Stop();
  if (impl_) impl_->ctx.threads.JoinAll();
}

Result<std::unique_ptr<WebServer>> StartWebView(grpc::Server& server, const std::string& listen,
                                                TokenCheck accepts, bool required) {
  if (listen.empty()) return std::unique_ptr<WebServer>();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(rpc::kMaxMessageBytes);
  auto started = WebServer::Start(listen, std::move(accepts), server.InProcessChannel(args));
  if (started.ok()) {
    spdlog::info("web view on {}", (*started)->url());
    return started;
  }
  if (required) return started.status();
  spdlog::warn("{}; running without it (--http-listen picks another address)", started.message());
  return std::unique_ptr<WebServer>();
}

}  // namespace hollerith::web
