// What the web view lets a logged-in client change, and the guard in front of it. A state-changing
// request (POST) must carry the session's CSRF token in the X-CSRF-Token header: the token is
// derived from the session's credential and a secret of this process (HMAC-SHA256), handed to the
// page by GET /api/session, and never accepted from a cookie or a form field, so a page of another
// site cannot make the browser act even where SameSite cookies are not enforced. Internal to
// web_routes.cc.
#pragma once

#include <httplib.h>

#include <string>

namespace hollerith::web {

inline constexpr const char* kCsrfHeader = "X-CSRF-Token";

class CsrfGuard {
 public:
  CsrfGuard();  // a fresh random secret: tokens do not outlive the process
  // The CSRF token of the session that presents `credential`.
  std::string TokenFor(const std::string& credential) const;
  // Whether `req` carries the CSRF token of `credential` (compared in constant time).
  bool Accepts(const httplib::Request& req, const std::string& credential) const;

 private:
  std::string secret_;
};

}  // namespace hollerith::web
