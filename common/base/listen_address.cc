#include "common/base/listen_address.h"

#include <cstdlib>

namespace hollerith {

std::string ListenAddress::HostPort() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> ParseListenAddress(const std::string& text, const std::string& what) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("bad " + what + " '" + text + "': " + why);
  };
  ListenAddress a{"127.0.0.1", 0};
  std::string port = text;
  if (const size_t colon = text.rfind(':'); colon != std::string::npos) {
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (a.host.starts_with('[') != a.host.ends_with(']') || a.host == "[" || a.host == "[]") {
      return bad("want [IPv6]:PORT");
    }
    if (a.host.starts_with('[')) a.host = a.host.substr(1, a.host.size() - 2);
    if (a.host.empty()) return bad("no host before the port (want PORT or HOST:PORT)");
  }
  char* end = nullptr;
  const long n = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || n < 0 || n > 65535) {
    return bad("want PORT or HOST:PORT (port 0..65535)");
  }
  a.port = static_cast<int>(n);
  return a;
}

}  // namespace hollerith
