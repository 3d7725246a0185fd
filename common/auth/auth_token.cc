#include "common/auth/auth_token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/base/hex.h"

namespace hollerith {

Result<std::string> LoadToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot read token file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string token = buf.str();
  const auto first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return Status::Error("token file " + path + " is empty");
  token = token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
  return token;
}

Result<std::string> CreateTokenFile(const std::string& path) {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::Error("no randomness for a token");
  const std::string token = HexEncode(raw, sizeof raw);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Error("cannot create token file " + path);
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::fchmod(fd, 0600);
  ::close(fd);
  if (!ok) return Status::Error("cannot write token file " + path);
  return token;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // The length of a token is not a secret (every token is 64 hex digits); its bytes are.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string ResolveTokenFile(const std::string& flag, const std::string& fallback) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("HOLLERITH_TOKEN_FILE"); env && *env) return env;
  return fallback;
}

}  // namespace hollerith
