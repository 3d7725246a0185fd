#include "common/log/log.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace hollerith::log {
namespace {

// The lines a block of code logs to stderr, with logging set up as a daemon does.
template <typename F>
std::vector<std::string> LinesLogged(Format format, F&& code) {
  testing::internal::CaptureStderr();
  Setup("test-daemon", "info", format);
  code();
  spdlog::default_logger()->flush();
  std::istringstream in(testing::internal::GetCapturedStderr());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(LogTest, JsonLinesCarryTheScopedFields) {
  const std::string job = "build-3";
  const auto lines = LinesLogged(Format::kJson, [&] {
    spdlog::info("outside any scope");
    {
      const ScopedFields card({.job = job, .stack = 2, .card = 5, .attempt = 1, .lamport = 77});
      spdlog::warn("card says \"hi\"\n\x01 {}", std::string("\xff"));  // quotes, control, not UTF-8
      {
        const ScopedFields inner({.job = job});
        spdlog::info("the job alone");
      }
      spdlog::info("the card again");
    }
    spdlog::debug("below the level");
  });
  ASSERT_EQ(lines.size(), 4u);
  std::vector<nlohmann::json> parsed;
  for (const auto& line : lines) parsed.push_back(nlohmann::json::parse(line));  // throws if not

  EXPECT_EQ(parsed[0]["msg"], "outside any scope");
  EXPECT_EQ(parsed[0]["level"], "info");
  EXPECT_EQ(parsed[0]["daemon"], "test-daemon");
  EXPECT_FALSE(parsed[0].contains("job"));
  EXPECT_TRUE(parsed[0]["time"].get<std::string>().ends_with("Z"));

  EXPECT_EQ(parsed[1]["level"], "warning");
  EXPECT_TRUE(parsed[1]["msg"].get<std::string>().starts_with("card says \"hi\"\n\x01 "));
  EXPECT_EQ(parsed[1]["job"], "build-3");
  EXPECT_EQ(parsed[1]["stack"], 2);
  EXPECT_EQ(parsed[1]["card"], 5);
  EXPECT_EQ(parsed[1]["attempt"], 1);
  EXPECT_EQ(parsed[1]["lamport"], 77);

  EXPECT_EQ(parsed[2]["job"], "build-3");
  EXPECT_FALSE(parsed[2].contains("card"));
  EXPECT_EQ(parsed[3]["card"], 5);  // the outer scope is back
  EXPECT_EQ(CurrentFields(), nullptr);
}

TEST(LogTest, TextLinesAreForPeople) {
  const auto lines = LinesLogged(Format::kText, [] { spdlog::info("hello {}", 42); });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].ends_with("hello 42")) << lines[0];
  EXPECT_NE(lines[0].find("info"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::accept(lines[0]));
}

TEST(LogTest, ParseFormat) {
  EXPECT_EQ(ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("text"), Format::kText);
  EXPECT_EQ(ParseFormat("yaml"), std::nullopt);
}

}  // namespace
}  // namespace hollerith::log
