#include "common/base/listen_address.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>

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

bool IsLoopbackAddress(const std::string& listen) {
  if (listen.rfind("unix:", 0) == 0) return true;
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") return true;
  unsigned char addr[16] = {};
  if (inet_pton(AF_INET, host.c_str(), addr) == 1) return addr[0] == 127;
  static const unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (inet_pton(AF_INET6, host.c_str(), addr) == 1) return std::memcmp(addr, kLoopback6, 16) == 0;
  return false;
}

Result<bool> CheckPlainHttpListen(std::string_view flag, const std::string& text,
                                  bool insecure_plaintext) {
  auto parsed = ParseListenAddress(text, "address");
  if (text.empty() || !parsed.ok() || IsLoopbackAddress(parsed->HostPort())) return false;
  if (insecure_plaintext) return true;
  return Status::FailedPrecondition(
      "refusing " + std::string(flag) + " " + text +
      ": it is plain HTTP, and the token it takes would cross the network unencrypted. Keep it "
      "on 127.0.0.1 (reach it with `ssh -L`, or a TLS proxy on the host), or accept the risk "
      "with --insecure-plaintext");
}

}  // namespace hollerith
