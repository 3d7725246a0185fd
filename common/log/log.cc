#include "common/log/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

namespace hollerith::log {
namespace {

thread_local const Fields* current_fields = nullptr;

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v";

std::string Timestamp(spdlog::log_clock::time_point t) {
  const auto since = t.time_since_epoch();
  const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(since).count();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(since).count() % 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

// One JSON object a line: time (UTC), level, daemon, msg, and the thread's fields.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["time"] = Timestamp(msg.time);
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string_view(level.data(), level.size());
    line["daemon"] = std::string_view(msg.logger_name.data(), msg.logger_name.size());
    line["msg"] = std::string_view(msg.payload.data(), msg.payload.size());
    if (const Fields* f = current_fields) {
      if (!f->job.empty()) line["job"] = f->job;
      if (f->stack) line["stack"] = *f->stack;
      if (f->card) line["card"] = *f->card;
      if (f->attempt) line["attempt"] = *f->attempt;
      if (f->lamport) line["lamport"] = *f->lamport;
    }
    // Bytes a card or a peer sent may not be UTF-8: replace them rather than throw.
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

void Setup(const std::string& daemon, const std::string& level, Format format) {
  spdlog::drop(daemon);  // a second Setup replaces the first
  std::shared_ptr<spdlog::logger> logger;
  if (format == Format::kJson) {
    logger = spdlog::stderr_logger_mt(daemon);  // no colour codes inside JSON
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger = spdlog::stderr_color_mt(daemon);
    logger->set_pattern(kTextPattern);
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

ScopedFields::ScopedFields(const Fields& fields) : fields_(fields), outer_(current_fields) {
  current_fields = &fields_;
}

ScopedFields::~ScopedFields() { current_fields = outer_; }

const Fields* CurrentFields() { return current_fields; }

}  // namespace hollerith::log
