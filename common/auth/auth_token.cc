#include "common/auth/auth_token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
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

Result<std::vector<std::pair<std::string, std::string>>> LoadNamedTokens(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot read named token file " + path);
  std::vector<std::pair<std::string, std::string>> entries;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    auto bad = [&](const std::string& why) {
      return Status::Error(path + ":" + std::to_string(number) + ": " + why +
                           " (expected NAME:TOKEN)");
    };
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return bad("no ':'");
    std::string name = line.substr(0, colon), token = line.substr(colon + 1);
    const bool name_ok =
        !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
                 c == '@';
        });
    if (!name_ok) return bad("bad name");
    if (token.size() < 16) return bad("the token is shorter than 16 characters");
    for (const auto& [n, t] : entries) {
      if (n == name) return bad("name " + name + " is given twice");
      if (t == token) return bad("the token of " + name + " is also " + n + "'s");
    }
    entries.emplace_back(std::move(name), std::move(token));
  }
  if (entries.empty()) return Status::Error("named token file " + path + " has no entry");
  return entries;
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
