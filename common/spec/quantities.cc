#include "common/spec/quantities.h"

#include <array>
#include <utility>

#include "common/base/hex.h"

namespace hollerith {

namespace {

// Leading decimal digits of `text` (at most 15, so no overflow); false if there are none or more.
bool ReadWhole(std::string_view text, size_t& i, uint64_t& value) {
  const size_t start = i;
  value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (i - start >= 15) return false;
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  return i > start;
}

}  // namespace

std::string QuoteForMessage(std::string_view s) {
  constexpr size_t kMaxShown = 80;
  bool shortened = false;
  if (s.size() > kMaxShown) {
    size_t cut = kMaxShown;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // whole chars
    s = s.substr(0, cut);
    shortened = true;
  }
  std::string out = "'";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      out += "\\x" + HexEncode(std::string_view(&ch, 1));
    } else {
      out += ch;
    }
  }
  out += shortened ? "...'" : "'";
  return out;
}

Result<Duration> ParseDuration(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::Error("bad duration " + QuoteForMessage(text) + ": " + why);
  };
  size_t i = 0;
  auto digit = [&] { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
  int64_t whole = 0;
  int whole_digits = 0;
  for (; digit(); ++i) {
    if (++whole_digits > 12) return bad("too large");
    whole = whole * 10 + (text[i] - '0');
  }
  if (whole_digits == 0) return bad("expected a number and a unit, e.g. 500ms, 30s, 1.5m, 2h");
  int64_t fraction = 0;
  int64_t fraction_scale = 1;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digit()) return bad("expected digits after '.'");
    for (; digit(); ++i) {
      if (fraction_scale == 1'000'000'000) return bad("too many decimal places");
      fraction = fraction * 10 + (text[i] - '0');
      fraction_scale *= 10;
    }
  }
  const std::string_view unit = text.substr(i);
  int64_t unit_ms;
  if (unit == "ms") {
    unit_ms = 1;
  } else if (unit == "s") {
    unit_ms = 1000;
  } else if (unit == "m") {
    unit_ms = 60 * 1000;
  } else if (unit == "h") {
    unit_ms = 60 * 60 * 1000;
  } else if (unit.empty()) {
    return bad("a unit is required (ms, s, m or h)");
  } else {
    return bad("unknown unit " + QuoteForMessage(unit) + " (use ms, s, m or h)");
  }
  if (fraction * unit_ms % fraction_scale != 0) return bad("finer than a millisecond");
  return Duration(whole * unit_ms + fraction * unit_ms / fraction_scale);
}

std::string FormatDuration(Duration d) {
  const int64_t ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

Result<uint64_t> ParseSize(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::Error("bad size " + QuoteForMessage(text) + ": " + why);
  };
  size_t i = 0;
  uint64_t whole = 0;
  if (!ReadWhole(text, i, whole)) {
    return bad("expected a whole number and a unit, e.g. 512MiB, 2GiB, 100000B");
  }
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 9> kUnits = {{
      {"B", 1},
      {"KiB", uint64_t{1} << 10},
      {"MiB", uint64_t{1} << 20},
      {"GiB", uint64_t{1} << 30},
      {"TiB", uint64_t{1} << 40},
      {"KB", 1000},
      {"MB", 1000'000},
      {"GB", 1000'000'000},
      {"TB", 1000'000'000'000},
  }};
  const std::string_view unit = text.substr(i);
  if (unit.empty()) return bad("a unit is required (B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)");
  for (const auto& [name, scale] : kUnits) {
    if (unit != name) continue;
    if (whole == 0) return bad("must be more than zero");
    if (whole > (uint64_t{1} << 62) / scale) return bad("too large");
    return whole * scale;
  }
  return bad("unknown unit " + QuoteForMessage(unit) +
             " (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)");
}

std::string FormatSize(uint64_t bytes) {
  static constexpr std::array<std::string_view, 4> kNames = {"TiB", "GiB", "MiB", "KiB"};
  for (size_t k = 0; k < kNames.size(); ++k) {
    const uint64_t scale = uint64_t{1} << (10 * (4 - k));
    if (bytes != 0 && bytes % scale == 0)
      return std::to_string(bytes / scale) + std::string(kNames[k]);
  }
  return std::to_string(bytes) + "B";
}

Result<uint64_t> ParseCount(std::string_view text, uint64_t max) {
  size_t i = 0;
  uint64_t value = 0;
  if (!ReadWhole(text, i, value) || i != text.size() || value == 0 || value > max) {
    return Status::Error("bad count " + QuoteForMessage(text) +
                         ": expected a whole number from 1 to " + std::to_string(max));
  }
  return value;
}

}  // namespace hollerith
