#include "coordinator/web/web_actions.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/auth/auth_token.h"
#include "common/base/check.h"
#include "common/base/hex.h"

namespace hollerith::web {

CsrfGuard::CsrfGuard() {
  unsigned char raw[32];
  HOLLERITH_CHECK(RAND_bytes(raw, sizeof raw) == 1, "no randomness for the CSRF secret");
  secret_.assign(reinterpret_cast<const char*>(raw), sizeof raw);
}

std::string CsrfGuard::TokenFor(const std::string& credential) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HOLLERITH_CHECK(HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
                       reinterpret_cast<const unsigned char*>(credential.data()), credential.size(),
                       mac, &length) != nullptr,
                  "OpenSSL HMAC failed");
  return HexEncode(mac, length);
}

bool CsrfGuard::Accepts(const httplib::Request& req, const std::string& credential) const {
  const std::string presented = req.get_header_value(kCsrfHeader);
  return !presented.empty() && ConstantTimeEquals(presented, TokenFor(credential));
}

}  // namespace hollerith::web
