#include "common/metrics/metrics_endpoint.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cctype>
#include <mutex>
#include <sstream>
#include <thread>

namespace hollerith {

namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

// The password of "base64(user:password)", or "" when it does not decode.
std::string BasicPassword(std::string_view encoded) {
  if (encoded.empty() || encoded.size() % 4 != 0 || encoded.size() > 4096) return "";
  std::string decoded(encoded.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(encoded.data()),
                                static_cast<int>(encoded.size()));
  if (n < 0) return "";
  // EVP_DecodeBlock counts the padding as zero bytes: drop one per '='.
  size_t size = static_cast<size_t>(n);
  for (size_t i = encoded.size(); i > 0 && encoded[i - 1] == '=' && size > 0; --i) --size;
  decoded.resize(size);
  const size_t colon = decoded.find(':');
  return colon == std::string::npos ? "" : decoded.substr(colon + 1);
}

}  // namespace

std::string PresentedToken(std::string_view authorization) {
  authorization = TrimSpaces(authorization);
  if (StartsWithNoCase(authorization, "Bearer ")) {
    return std::string(TrimSpaces(authorization.substr(7)));
  }
  if (StartsWithNoCase(authorization, "Basic ")) {
    return BasicPassword(TrimSpaces(authorization.substr(6)));
  }
  return "";
}

struct MetricsEndpoint::Impl {
  std::shared_ptr<prometheus::Registry> registry;
  std::function<void()> refresh;
  std::function<bool(const std::string&)> authorize;
  std::mutex scrape_mu;  // one refresh + collect at a time
  httplib::Server server;
  std::thread listener;

  void Scrape(const httplib::Request& req, httplib::Response& res) {
    if (authorize) {
      const std::string token = PresentedToken(req.get_header_value("Authorization"));
      if (token.empty() || !authorize(token)) {
        res.status = 401;
        res.set_header("WWW-Authenticate", "Basic realm=\"hollerith\"");
        res.set_content("a cluster token is needed: Authorization: Bearer TOKEN or basic auth\n",
                        "text/plain");
        return;
      }
    }
    std::ostringstream out;
    {
      std::lock_guard lock(scrape_mu);
      if (refresh) refresh();
      prometheus::TextSerializer().Serialize(out, registry->Collect());
    }
    res.set_content(out.str(), "text/plain; version=0.0.4; charset=utf-8");
  }
};

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
    std::function<void()> refresh, std::function<bool(const std::string&)> authorize) {
  auto address = ParseListenAddress(listen, "metrics address");
  if (!address.ok()) return address.status();
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  e->host_ = address->host;
  e->impl_ = std::make_unique<Impl>();
  Impl& impl = *e->impl_;
  impl.registry = std::move(registry);
  impl.refresh = std::move(refresh);
  impl.authorize = std::move(authorize);
  // Two serving threads: scrapes are rare, and each one refreshes under the daemon's state.
  impl.server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  impl.server.set_keep_alive_timeout(1);
  impl.server.set_payload_max_length(4096);
  impl.server.Get("/metrics", [&impl](const httplib::Request& req, httplib::Response& res) {
    impl.Scrape(req, res);
  });
  const std::string bind = address->HostPort();
  int port = address->port;
  if (port == 0) {
    port = impl.server.bind_to_any_port(address->host);
  } else if (!impl.server.bind_to_port(address->host, port)) {
    port = -1;
  }
  if (port <= 0) return Status::Unavailable("cannot serve metrics on " + bind);
  e->port_ = port;
  impl.listener = std::thread([&impl] { impl.server.listen_after_bind(); });
  return e;
}

MetricsEndpoint::~MetricsEndpoint() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

std::string MetricsEndpoint::url() const {
  return "http://" + ListenAddress{host_, port_}.HostPort() + "/metrics";
}

}  // namespace hollerith
