// The address an HTTP listener of a daemon binds (the web view, the metrics endpoint): the text of
// their --*-listen flags.
#pragma once

#include <string>
#include <string_view>

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

// True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost, unix sockets
// ("HOST:PORT", "[IPv6]:PORT", "unix:PATH").
bool IsLoopbackAddress(const std::string& listen);

// An HTTP listener of a daemon (web view, metrics) is plain HTTP and takes a token, so beyond
// loopback it needs the user's --insecure-plaintext: true if it listens beyond loopback with it
// (the caller warns), false on loopback or for an empty or bad address (reported where it is
// bound), FAILED_PRECONDITION naming `flag` without it.
Result<bool> CheckPlainHttpListen(std::string_view flag, const std::string& text,
                                  bool insecure_plaintext);

}  // namespace hollerith
