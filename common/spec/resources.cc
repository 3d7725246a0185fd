#include "common/spec/resources.h"

#include <algorithm>
#include <array>

#include "common/spec/quantities.h"

namespace hollerith {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "2", "0.5", "0.125", "250m": thousandths of a cpu.
Result<uint64_t> ParseCpu(std::string_view text) {
  auto bad = [&] {
    return Status::Error("bad cpu amount " + QuoteForMessage(text) +
                         ": expected a number of cpus such as 2, 0.5 or 250m");
  };
  std::string_view digits = text;
  bool milli = false;
  if (!digits.empty() && digits.back() == 'm') {
    milli = true;
    digits.remove_suffix(1);
  }
  uint64_t whole = 0;
  size_t i = 0;
  for (; i < digits.size() && IsDigit(digits[i]); ++i) {
    if (i >= 12) return bad();
    whole = whole * 10 + static_cast<uint64_t>(digits[i] - '0');
  }
  if (i == 0) return bad();
  uint64_t fraction = 0;
  if (i < digits.size()) {
    if (milli || digits[i] != '.' || i + 1 == digits.size()) return bad();
    uint64_t scale = 100;
    for (++i; i < digits.size(); ++i) {
      if (!IsDigit(digits[i])) return bad();
      if (scale == 0) {
        return Status::Error("bad cpu amount " + QuoteForMessage(text) +
                             ": finer than a thousandth of a cpu");
      }
      fraction += static_cast<uint64_t>(digits[i] - '0') * scale;
      scale /= 10;
    }
  }
  const uint64_t value = milli ? whole : whole * kMilliCpu + fraction;
  if (value > kMaxCpuMilli) return bad();
  return value;
}

// A bare number of bytes, Kubernetes' K M G T (10^3 ...) and Ki Mi Gi Ti (2^10 ...), or the
// units of ParseSize (KiB, GB, ...).
Result<uint64_t> ParseMemory(std::string_view text) {
  size_t i = 0;
  uint64_t whole = 0;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    if (i >= 15) break;
    whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  const std::string_view unit = text.substr(i);
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 9> kShort = {{
      {"", 1},
      {"K", 1000},
      {"M", 1000'000},
      {"G", 1000'000'000},
      {"T", 1000'000'000'000},
      {"Ki", uint64_t{1} << 10},
      {"Mi", uint64_t{1} << 20},
      {"Gi", uint64_t{1} << 30},
      {"Ti", uint64_t{1} << 40},
  }};
  if (i > 0 && i <= 15) {
    for (const auto& [name, scale] : kShort) {
      if (unit != name) continue;
      if (whole > (uint64_t{1} << 62) / scale) break;
      return whole * scale;
    }
  }
  if (text == "0B") return uint64_t{0};
  auto size = ParseSize(text);
  if (size.ok()) return size;
  return Status::Error("bad memory amount " + QuoteForMessage(text) +
                       ": expected a size such as 4GiB, 512MiB, 4G or 4Gi");
}

Result<uint64_t> ParseNamed(std::string_view name, std::string_view text) {
  uint64_t value = 0;
  size_t i = 0;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    if (i >= 13) break;
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0 || i != text.size() || value > kMaxNamedAmount) {
    return Status::Error("bad " + std::string(name) + " amount " + QuoteForMessage(text) +
                         ": expected a whole number, 0 or more");
  }
  return value;
}

}  // namespace

uint64_t Resources::Named(std::string_view name) const {
  auto it = std::lower_bound(named.begin(), named.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  return it != named.end() && it->first == name ? it->second : 0;
}

void Resources::SetNamed(std::string_view name, uint64_t amount) {
  auto it = std::lower_bound(named.begin(), named.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  if (it != named.end() && it->first == name) {
    if (amount == 0) {
      named.erase(it);
    } else {
      it->second = amount;
    }
  } else if (amount != 0) {
    named.emplace(it, std::string(name), amount);
  }
}

bool Resources::Holds(const Resources& request) const {
  if (request.cpu_milli > cpu_milli || request.memory_bytes > memory_bytes) return false;
  for (const auto& [name, amount] : request.named) {
    if (amount > Named(name)) return false;
  }
  return true;
}

Resources& Resources::operator+=(const Resources& other) {
  cpu_milli += other.cpu_milli;
  memory_bytes += other.memory_bytes;
  for (const auto& [name, amount] : other.named) SetNamed(name, Named(name) + amount);
  return *this;
}

Resources& Resources::operator-=(const Resources& other) {
  cpu_milli -= std::min(cpu_milli, other.cpu_milli);
  memory_bytes -= std::min(memory_bytes, other.memory_bytes);
  for (const auto& [name, amount] : other.named) {
    const uint64_t have = Named(name);
    SetNamed(name, have - std::min(have, amount));
  }
  return *this;
}

Resources DefaultRequest() {
  Resources r;
  r.cpu_milli = kDefaultCpuMilli;
  return r;
}

bool IsResourceName(std::string_view name) {
  if (name.empty() || name.size() > 32 || name.front() < 'a' || name.front() > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '_' || c == '-';
  });
}

Status SetResource(Resources& r, std::string_view name, std::string_view value) {
  if (!IsResourceName(name)) {
    return Status::Error("bad resource name " + QuoteForMessage(name) +
                         ": cpu, memory, or a name of a-z 0-9 _ - starting with a letter");
  }
  if (!value.empty() && value.front() == '-') {
    return Status::Error("bad " + std::string(name) + " amount " + QuoteForMessage(value) +
                         ": amounts cannot be negative");
  }
  if (name == "cpu") {
    auto cpu = ParseCpu(value);
    if (!cpu.ok()) return cpu.status();
    r.cpu_milli = *cpu;
  } else if (name == "memory") {
    auto memory = ParseMemory(value);
    if (!memory.ok()) return memory.status();
    r.memory_bytes = *memory;
  } else {
    auto amount = ParseNamed(name, value);
    if (!amount.ok()) return amount.status();
    if (r.named.size() >= kMaxNamedResources && r.Named(name) == 0) {
      return Status::Error("too many kinds of resources (at most " +
                           std::to_string(kMaxNamedResources) + ")");
    }
    r.SetNamed(name, *amount);
  }
  return Status::Ok();
}

Result<Resources> ParseResourceList(std::string_view text) {
  Resources r;
  std::vector<std::string_view> seen;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Status::Error("bad resource " + QuoteForMessage(item) +
                           ": expected NAME=AMOUNT, e.g. cpu=2,memory=4GiB,gpu=1");
    }
    const std::string_view name = item.substr(0, eq);
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return Status::Error("resource " + QuoteForMessage(name) + " is given twice");
    }
    seen.push_back(name);
    if (Status s = SetResource(r, name, item.substr(eq + 1)); !s.ok()) return s;
  }
  return r;
}

std::string FormatAmount(std::string_view name, uint64_t amount) {
  if (name == "memory") return amount == 0 ? "0" : FormatSize(amount);
  if (name != "cpu") return std::to_string(amount);
  std::string out = std::to_string(amount / kMilliCpu);
  if (uint64_t frac = amount % kMilliCpu; frac != 0) {
    std::string digits = std::to_string(frac + kMilliCpu).substr(1);
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

std::string FormatResources(const Resources& r) {
  std::string out;
  auto add = [&](std::string_view name, uint64_t amount) {
    out += (out.empty() ? "" : ",") + std::string(name) + "=" + FormatAmount(name, amount);
  };
  if (r.cpu_milli) add("cpu", r.cpu_milli);
  if (r.memory_bytes) add("memory", r.memory_bytes);
  for (const auto& [name, amount] : r.named) add(name, amount);
  return out;
}

std::vector<std::string> KindsOf(const Resources& a, const Resources& b) {
  std::vector<std::string> kinds;
  if (a.cpu_milli || b.cpu_milli) kinds.push_back("cpu");
  if (a.memory_bytes || b.memory_bytes) kinds.push_back("memory");
  std::vector<std::string> named;
  for (const auto& [name, amount] : a.named) named.push_back(name);
  for (const auto& [name, amount] : b.named) named.push_back(name);
  std::sort(named.begin(), named.end());
  named.erase(std::unique(named.begin(), named.end()), named.end());
  kinds.insert(kinds.end(), named.begin(), named.end());
  return kinds;
}

uint64_t AmountOf(const Resources& r, std::string_view kind) {
  if (kind == "cpu") return r.cpu_milli;
  if (kind == "memory") return r.memory_bytes;
  return r.Named(kind);
}

}  // namespace hollerith
