// The address an HTTP listener of a daemon binds (the web view, the metrics endpoint): the text of
// their --*-listen flags.
#pragma once

#include <string>

#include "common/base/status.h"

namespace hollerith {

struct ListenAddress {
  std::string host;  // an IPv6 host without its brackets
  int port = 0;      // 0: a free port

  // "HOST:PORT", with brackets around an IPv6 host: what a listener is given to bind.
  std::string HostPort() const;
};

// "PORT" (on 127.0.0.1), "HOST:PORT" or "[IPv6]:PORT". `what` names the address in errors, as in
// "bad metrics address ':80': ...".
Result<ListenAddress> ParseListenAddress(const std::string& text, const std::string& what);

}  // namespace hollerith
