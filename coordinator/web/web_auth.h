// Who may see the web view: a browser that logged in with the cluster token (an HttpOnly,
// SameSite=Strict cookie holding it) or a program sending `Authorization: Bearer TOKEN`. Both are
// compared in constant time. The token never appears in a URL or a log line.
#pragma once

#include <httplib.h>

#include <string>

namespace hollerith::web {

inline constexpr const char* kSessionCookie = "hollerith_token";

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(const std::string& header, const std::string& name);
// True when the request carries the token (cookie or bearer header).
bool Authorized(const httplib::Request& req, const std::string& token);
// A same-site path to go to after logging in ("/jobs/3"); "/" for anything else.
std::string SafeNext(const std::string& next);
// POST /login (form fields token, next): sets the cookie and redirects to next, or back to the
// login page marked failed. POST /logout clears the cookie.
void HandleLogin(const httplib::Request& req, httplib::Response& res, const std::string& token,
                 bool secure);
void HandleLogout(httplib::Response& res, bool secure);

}  // namespace hollerith::web
