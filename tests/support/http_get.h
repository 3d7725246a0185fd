// A minimal HTTP/1.0 GET over loopback for integration tests (e.g. scraping /metrics), with a
// deadline; no library, so what the test sees is exactly what the daemon served.
#pragma once

#include <chrono>
#include <string>

namespace hollerith::testing {

struct HttpResponse {
  int status = 0;    // 0: no answer (connection refused, deadline)
  std::string body;  // after the headers
};

// GET `url` of the form http://HOST:PORT/PATH (HOST a numeric IPv4 address); with a `password`,
// authenticated by HTTP basic auth (user "test").
HttpResponse HttpGet(const std::string& url, const std::string& password = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
// GET `url` sending `authorization` as the Authorization header's value ("Bearer TOKEN", ...).
HttpResponse HttpGetAuthorized(const std::string& url, const std::string& authorization,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The value of one series in a Prometheus text exposition (`name{labels} value`); -1 if absent.
double Series(const std::string& exposition, const std::string& series);

}  // namespace hollerith::testing
