#include "common/metrics/metrics_endpoint.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <cstdlib>
#include <exception>

namespace hollerith {

// The registry as the exposer sees it: refreshed, then collected.
struct MetricsEndpoint::Refreshing : prometheus::Collectable {
  std::shared_ptr<prometheus::Registry> registry;
  std::function<void()> refresh;
  std::vector<prometheus::MetricFamily> Collect() const override {
    if (refresh) refresh();
    return registry->Collect();
  }
};

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
    std::function<void()> refresh, std::function<bool(const std::string&)> authorize) {
  auto address = ParseListenAddress(listen, "metrics address");
  if (!address.ok()) return address.status();
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  e->host_ = address->host;
  e->collectable_ = std::make_shared<Refreshing>();
  e->collectable_->registry = std::move(registry);
  e->collectable_->refresh = std::move(refresh);
  const std::string bind = address->HostPort();
  try {
    // One serving thread: scrapes are rare, and each one refreshes under the daemon's state.
    e->exposer_ = std::make_unique<prometheus::Exposer>(bind, 1);
  } catch (const std::exception& ex) {
    return Status::Unavailable("cannot serve metrics on " + bind + ": " + ex.what());
  }
  const std::vector<int> ports = e->exposer_->GetListeningPorts();
  if (ports.empty() || ports.front() <= 0) {
    return Status::Unavailable("cannot serve metrics on " + bind + ": no port bound");
  }
  e->port_ = ports.front();
  if (authorize) {
    e->exposer_->RegisterAuth(
        [authorize = std::move(authorize)](const std::string&, const std::string& password) {
          return authorize(password);
        },
        "hollerith");
  }
  e->exposer_->RegisterCollectable(e->collectable_);
  return e;
}

MetricsEndpoint::~MetricsEndpoint() { exposer_.reset(); }

std::string MetricsEndpoint::url() const {
  return "http://" + ListenAddress{host_, port_}.HostPort() + "/metrics";
}

}  // namespace hollerith
