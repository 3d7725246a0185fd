// Family common/auth/: credentials. May use: base, OpenSSL. Must not know jobs or the network.
//
// The shared secret every RPC carries. The coordinator creates a random token file (mode 0600) in
// its data dir when none is given; CLI and workers read --token-file or HOLLERITH_TOKEN_FILE.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace hollerith {

// Reads a token file (surrounding whitespace trimmed); an empty or unreadable file is an error.
Result<std::string> LoadToken(const std::string& path);
// Reads a file of named tokens: one `NAME:TOKEN` per line, blank lines and '#' comments
// ignored. Names are 1..64 of A-Z a-z 0-9 _ - . @; tokens at least 16 characters; a name or token
// given twice, or no entry at all, is an error naming the line.
Result<std::vector<std::pair<std::string, std::string>>> LoadNamedTokens(const std::string& path);
// Writes a new random token (32 bytes, hex) to `path` with mode 0600 and returns it.
Result<std::string> CreateTokenFile(const std::string& path);
// Compares in time independent of where the strings differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// --token-file if given, else $HOLLERITH_TOKEN_FILE, else `fallback` (may be empty).
std::string ResolveTokenFile(const std::string& flag, const std::string& fallback);

}  // namespace hollerith
