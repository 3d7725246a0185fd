// Lower-case hex of bytes: tokens, sha256 digests, bytes quoted in messages. The one encoder.
#pragma once

#include <string>
#include <string_view>

namespace hollerith {

std::string HexEncode(std::string_view bytes);
inline std::string HexEncode(const unsigned char* bytes, size_t n) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(bytes), n));
}

}  // namespace hollerith
