// Family common/metrics/: owns the Prometheus endpoint of a daemon. May use: base and
// prometheus-cpp. Must not know jobs, the core, the runner or the network protocol.
//
// Serves a registry on http://HOST:PORT/metrics through prometheus-cpp's Exposer (civetweb), so
// the exposition format is the library's, never written by hand. Before each scrape it runs
// `refresh` (on a civetweb thread), which lets a daemon set gauges from state owned by its loop.
// With `authorize`, a scrape must carry HTTP basic auth whose password it accepts (the daemons
// pass a check of the cluster token; any user name); others get 401.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/base/listen_address.h"
#include "common/base/status.h"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace hollerith {

class MetricsEndpoint {
 public:
  // Binds `listen` (see ParseListenAddress) and starts serving `registry`.
  static Result<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
      std::function<void()> refresh = nullptr,
      std::function<bool(const std::string& password)> authorize = nullptr);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }  // the bound port (never 0)
  std::string url() const;            // http://HOST:PORT/metrics

 private:
  MetricsEndpoint() = default;
  struct Refreshing;
  std::string host_;
  int port_ = 0;
  std::shared_ptr<Refreshing> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace hollerith
