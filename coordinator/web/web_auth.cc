#include "coordinator/web/web_auth.h"

namespace hollerith::web {

namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::string CookieAttributes(bool secure) {
  return std::string("; Path=/; HttpOnly; SameSite=Strict") + (secure ? "; Secure" : "");
}

}  // namespace

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(';', start);
    if (end == std::string::npos) end = header.size();
    const std::string pair = Trim(header.substr(start, end - start));
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    start = end + 1;
  }
  return "";
}

std::optional<std::string> AcceptedToken(const httplib::Request& req, const TokenCheck& accepts) {
  const std::string auth = req.get_header_value("Authorization");
  static const std::string kBearer = "Bearer ";
  if (auth.rfind(kBearer, 0) == 0) {
    std::string token = Trim(auth.substr(kBearer.size()));
    if (!token.empty() && accepts(token)) return token;
  }
  for (size_t i = 0; i < req.get_header_value_count("Cookie"); ++i) {
    std::string value = CookieValue(req.get_header_value("Cookie", i), kSessionCookie);
    if (!value.empty() && accepts(value)) return value;
  }
  return std::nullopt;
}

std::string SafeNext(const std::string& next) {
  // Only paths of this site: "/x", never "//host" or "/\host" (both leave the site).
  if (next.size() < 1 || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\')))
    return "/";
  for (char c : next) {
    if (static_cast<unsigned char>(c) < 0x20) return "/";
  }
  return next;
}

void HandleLogin(const httplib::Request& req, httplib::Response& res, const TokenCheck& accepts,
                 bool secure) {
  const std::string next = SafeNext(req.get_param_value("next"));
  const std::string token = Trim(req.get_param_value("token"));
  // A cookie value is a token: nothing else may be set in it (no "; Domain=..." smuggled in).
  if (token.empty() || token.find_first_of(";, \t\r\n") != std::string::npos || !accepts(token)) {
    res.status = 303;
    res.set_header("Location", "/login?failed=1&next=" + httplib::detail::encode_query_param(next));
    return;
  }
  res.status = 303;
  res.set_header("Set-Cookie",
                 std::string(kSessionCookie) + "=" + token + CookieAttributes(secure));
  res.set_header("Location", next);
}

void HandleLogout(httplib::Response& res, bool secure) {
  res.status = 303;
  res.set_header("Set-Cookie",
                 std::string(kSessionCookie) + "=" + CookieAttributes(secure) + "; Max-Age=0");
  res.set_header("Location", "/login");
}

}  // namespace hollerith::web
