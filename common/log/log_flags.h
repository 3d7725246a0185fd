// The daemons' logging flags, one definition for both: --log-level and --log-format (see Setup).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace hollerith::log {

inline void AddLogFlags(CLI::App& app, std::string& level, std::string& format) {
  app.add_option("--log-level", level, "trace, debug, info, warn or error (logs go to stderr)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log-format", format,
                 "text (for people) or json (one object a line, with job, stack, card, attempt "
                 "and lamport where they apply)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

}  // namespace hollerith::log
