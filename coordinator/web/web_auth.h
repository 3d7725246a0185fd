// Who may see the web view: a browser that logged in with a client token (an HttpOnly,
// SameSite=Strict cookie holding it) or a program sending `Authorization: Bearer TOKEN`. The
// coordinator's authorizer judges the token on every request (in constant time), so a token
// revoked on SIGHUP stops working at once and a new one works without a restart. The token never
// appears in a URL or a log line.
#pragma once

#include <httplib.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace hollerith::web {

inline constexpr const char* kSessionCookie = "hollerith_token";

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(const std::string& header, const std::string& name);
// Whether a token may use the web view (in the daemon: it grants the client role now).
using TokenCheck = std::function<bool(std::string_view token)>;
// The token the request presents (bearer header, else cookie) if `accepts` takes it.
std::optional<std::string> AcceptedToken(const httplib::Request& req, const TokenCheck& accepts);
// A same-site path to go to after logging in ("/jobs/3"); "/" for anything else.
std::string SafeNext(const std::string& next);
// POST /login (form fields token, next): sets the cookie and redirects to next, or back to the
// login page marked failed. POST /logout clears the cookie.
void HandleLogin(const httplib::Request& req, httplib::Response& res, const TokenCheck& accepts,
                 bool secure);
void HandleLogout(httplib::Response& res, bool secure);

}  // namespace hollerith::web
