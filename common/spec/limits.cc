#include "common/spec/limits.h"

#include "common/spec/quantities.h"

namespace hollerith {

bool LimitKindOf(std::string_view key, LimitKind* kind) {
  if (key == "memory") {
    *kind = LimitKind::kMemory;
  } else if (key == "cpu") {
    *kind = LimitKind::kCpu;
  } else if (key == "files") {
    *kind = LimitKind::kFiles;
  } else if (key == "processes") {
    *kind = LimitKind::kProcesses;
  } else {
    return false;
  }
  return true;
}

Status SetLimit(CardLimits& limits, LimitKind kind, std::string_view value) {
  switch (kind) {
    case LimitKind::kMemory: {
      Result<uint64_t> bytes = ParseSize(value);
      if (!bytes.ok()) return Status::Error("memory: " + bytes.message());
      limits.memory_bytes = *bytes;
      return Status::Ok();
    }
    case LimitKind::kCpu: {
      Result<Duration> cpu = ParseDuration(value);
      if (!cpu.ok()) return Status::Error("cpu: " + cpu.message());
      if (cpu->count() <= 0) return Status::Error("cpu: must be more than zero");
      limits.cpu = *cpu;
      return Status::Ok();
    }
    case LimitKind::kFiles:
    case LimitKind::kProcesses: {
      Result<uint64_t> n = ParseCount(value, kMaxLimitCount);
      const char* name = kind == LimitKind::kFiles ? "files" : "processes";
      if (!n.ok()) return Status::Error(std::string(name) + ": " + n.message());
      (kind == LimitKind::kFiles ? limits.files : limits.processes) = *n;
      return Status::Ok();
    }
  }
  return Status::Error("unknown limit");
}

Result<CardLimits> ParseLimitList(std::string_view text) {
  CardLimits limits;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = text.substr(start, comma - start);
    const size_t eq = item.find('=');
    LimitKind kind;
    if (eq == std::string_view::npos || !LimitKindOf(item.substr(0, eq), &kind)) {
      return Status::Error("bad limit " + QuoteForMessage(item) +
                           " (expected memory=SIZE, cpu=DURATION, files=N or processes=N)");
    }
    if (Status s = SetLimit(limits, kind, item.substr(eq + 1)); !s.ok()) return s;
    start = comma + 1;
  }
  return limits;
}

std::string FormatLimitList(const CardLimits& limits) {
  std::string out;
  auto add = [&out](const char* key, const std::string& value) {
    if (!out.empty()) out += ",";
    out.append(key).append("=").append(value);
  };
  if (limits.memory_bytes != 0) add("memory", FormatSize(limits.memory_bytes));
  if (limits.cpu.count() != 0) add("cpu", FormatDuration(limits.cpu));
  if (limits.files != 0) add("files", std::to_string(limits.files));
  if (limits.processes != 0) add("processes", std::to_string(limits.processes));
  return out;
}

CardLimits WithDefaults(const CardLimits& card, const CardLimits& defaults) {
  CardLimits out = card;
  if (out.memory_bytes == 0) out.memory_bytes = defaults.memory_bytes;
  if (out.cpu.count() == 0) out.cpu = defaults.cpu;
  if (out.files == 0) out.files = defaults.files;
  if (out.processes == 0) out.processes = defaults.processes;
  return out;
}

}  // namespace hollerith
