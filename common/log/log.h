// How the daemons log: one setup for both (`--log-format text` for people, `json` for log
// pipelines: one JSON object a line), and the fields a line carries where they apply. Code that
// works on one card or job opens a ScopedFields; every line logged on that thread while it lives
// carries them (in JSON as "job", "stack", "card", "attempt", "lamport").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hollerith::log {

enum class Format { kText, kJson };
std::optional<Format> ParseFormat(std::string_view name);  // "text" | "json"

// Replaces spdlog's default logger with one on stderr named `daemon`, at `level` (trace, debug,
// info, warn, error).
void Setup(const std::string& daemon, const std::string& level, Format format);

struct Fields {
  std::string_view job;  // must outlive the scope that carries it
  std::optional<uint32_t> stack;
  std::optional<uint32_t> card;
  std::optional<uint32_t> attempt;
  std::optional<uint64_t> lamport;
};

// The fields of this thread's log lines while it lives; a nested scope replaces them and the
// outer ones come back when it ends. It keeps its own copy of the fields (callers pass
// temporaries), only the job's characters must outlive it.
class ScopedFields {
 public:
  explicit ScopedFields(const Fields& fields);
  ~ScopedFields();
  ScopedFields(const ScopedFields&) = delete;
  ScopedFields& operator=(const ScopedFields&) = delete;

 private:
  Fields fields_;
  const Fields* outer_;
};

// The fields in effect on this thread (nullptr when none).
const Fields* CurrentFields();

}  // namespace hollerith::log
