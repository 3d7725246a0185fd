// Family common/metrics/: owns the Prometheus endpoint of a daemon. May use: base, prometheus-cpp
// (core), cpp-httplib and OpenSSL. Must not know jobs, the core, the runner or the network
// protocol.
//
// Serves a registry on http://HOST:PORT/metrics: cpp-httplib serves, prometheus-cpp's
// TextSerializer writes the exposition format (never written by hand). Before each scrape it runs
// `refresh` (on the serving thread), which lets a daemon set gauges from state owned by its loop.
// With `authorize`, a scrape must present a token it accepts, either as `Authorization: Bearer
// TOKEN` (Prometheus' `authorization` block) or as HTTP basic auth whose password is the token (any
// user name); others get 401 with a WWW-Authenticate challenge.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/listen_address.h"
#include "common/base/status.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace hollerith {

// The token an Authorization header value presents: "Bearer TOKEN", or "Basic base64(user:TOKEN)".
// Empty when the header is of another scheme or malformed.
std::string PresentedToken(std::string_view authorization);

class MetricsEndpoint {
 public:
  // Binds `listen` (see ParseListenAddress) and starts serving `registry`.
  static Result<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
      std::function<void()> refresh = nullptr,
      std::function<bool(const std::string& token)> authorize = nullptr);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }  // the bound port (never 0)
  std::string url() const;            // http://HOST:PORT/metrics

 private:
  MetricsEndpoint() = default;
  struct Impl;
  std::string host_;
  int port_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hollerith
