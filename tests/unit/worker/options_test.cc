// hollerith-worker's flags: labels, defaults, environment fallbacks, the required token, and TLS
// (the certificate instead of the token; a token then only guards metrics).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/pki/pki.h"
#include "tests/support/temp_dir.h"
#include "worker/options.h"

namespace hollerith::worker {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

ParsedOptions Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "hollerith-worker");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseWorkerOptions(static_cast<int>(argv.size()), argv.data());
}

class WorkerOptionsTest : public ::testing::Test {
 protected:
  WorkerOptionsTest() {
    ::unsetenv("HOLLERITH_TOKEN_FILE");
    ::unsetenv("HOLLERITH_COORDINATOR");
    token_file_ = dir_.Write("token", "  abc123\n");
    ::chmod(token_file_.c_str(), 0600);  // as the coordinator writes it
  }
  ~WorkerOptionsTest() override {
    ::unsetenv("HOLLERITH_TOKEN_FILE");
    ::unsetenv("HOLLERITH_COORDINATOR");
  }
  testing::TempDir dir_;
  std::string token_file_;
};

TEST(WorkerLabels, ParsesPairs) {
  auto l = ParseLabels("zone=eu,gpu=a100,empty=");
  ASSERT_TRUE(l.ok()) << l.message();
  EXPECT_EQ(*l, (Labels{{"zone", "eu"}, {"gpu", "a100"}, {"empty", ""}}));
  auto none = ParseLabels("");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto with_equals = ParseLabels("k=a=b,");
  ASSERT_TRUE(with_equals.ok());
  EXPECT_EQ(*with_equals, (Labels{{"k", "a=b"}}));
}

TEST(WorkerLabels, RejectsMissingKeyOrValue) {
  EXPECT_FALSE(ParseLabels("zone").ok());
  EXPECT_FALSE(ParseLabels("=eu").ok());
  EXPECT_NE(ParseLabels("a=1,oops").message().find("oops"), std::string::npos);
}

TEST_F(WorkerOptionsTest, DefaultsAndToken) {
  auto p = Parse({"--token-file", token_file_, "--name", "node-7"});
  ASSERT_TRUE(p.options.has_value());
  EXPECT_EQ(p.options->coordinator, kDefaultCoordinator);  // loopback, the documented default
  EXPECT_EQ(p.options->name, "node-7");
  EXPECT_EQ(p.options->work_dir, "/tmp/hollerith-worker-node-7");
  EXPECT_GE(p.options->slots, 1u);
  EXPECT_EQ(p.options->token, "abc123");
  EXPECT_EQ(p.options->log_level, "info");
  EXPECT_TRUE(p.options->labels.empty());
}

TEST_F(WorkerOptionsTest, ConfinementFlags) {
  auto p = Parse({"--token-file", token_file_, "--default-limits", "memory=4GiB,cpu=1h"});
  ASSERT_TRUE(p.options.has_value());
  EXPECT_EQ(p.options->sandbox.defaults.memory_bytes, uint64_t{4} << 30);
  EXPECT_EQ(p.options->sandbox.defaults.cpu, std::chrono::hours(1));
  EXPECT_EQ(p.options->sandbox.user.switches, ::geteuid() == 0)
      << "root runs cards as another user";
  if (::geteuid() == 0) {
    EXPECT_NE(p.options->sandbox.user.uid, 0u);
  }
  EXPECT_EQ(Parse({"--token-file", token_file_, "--default-limits", "memory=lots"}).exit_code, 2);
  EXPECT_EQ(Parse({"--token-file", token_file_, "--run-as", "no-such-user-hollerith"}).exit_code,
            2);
}

TEST_F(WorkerOptionsTest, RootRefusesATokenTheCardUserCouldRead) {
  ::chmod(token_file_.c_str(), 0644);
  auto p = Parse({"--token-file", token_file_});
  // Cards of a root worker run as another user, who must not read the token; not root: cards
  // run as the worker's own user, who reads it anyway.
  EXPECT_EQ(p.options.has_value(), ::geteuid() != 0);
  if (::geteuid() == 0) {
    EXPECT_EQ(p.exit_code, 2);
  }
}

TEST_F(WorkerOptionsTest, FlagsAndEnvironment) {
  ::setenv("HOLLERITH_TOKEN_FILE", token_file_.c_str(), 1);
  ::setenv("HOLLERITH_COORDINATOR", "coord:9000", 1);
  auto p = Parse(
      {"--labels", "zone=eu", "--slots", "3", "--work-dir", "/var/tmp/w", "--log-level", "debug"});
  ASSERT_TRUE(p.options.has_value());
  EXPECT_EQ(p.options->coordinator, "coord:9000");
  EXPECT_EQ(p.options->labels, (Labels{{"zone", "eu"}}));
  EXPECT_EQ(p.options->slots, 3u);
  EXPECT_EQ(p.options->work_dir, "/var/tmp/w");
  EXPECT_EQ(p.options->log_level, "debug");
  EXPECT_EQ(p.options->token, "abc123");
  EXPECT_FALSE(p.options->name.empty());  // the host name

  auto flag_wins = Parse({"--coordinator", "other:1"});
  ASSERT_TRUE(flag_wins.options.has_value());
  EXPECT_EQ(flag_wins.options->coordinator, "other:1");
}

TEST_F(WorkerOptionsTest, CapacityIsDetectedOrGiven) {
  auto detected = Parse({"--token-file", token_file_});
  ASSERT_TRUE(detected.options.has_value());
  EXPECT_EQ(detected.options->capacity.cpu_milli, DefaultSlots() * kMilliCpu);
  EXPECT_GT(detected.options->capacity.memory_bytes, 0u) << "the machine's memory";
  EXPECT_TRUE(detected.options->capacity.named.empty()) << "named ones are never guessed";

  auto given = Parse({"--token-file", token_file_, "--resources", "gpu=2,licence=1,memory=4GiB"});
  ASSERT_TRUE(given.options.has_value());
  EXPECT_EQ(given.options->capacity.Named("gpu"), 2u);
  EXPECT_EQ(given.options->capacity.Named("licence"), 1u);
  EXPECT_EQ(given.options->capacity.memory_bytes, uint64_t{4} << 30);
  EXPECT_EQ(given.options->capacity.cpu_milli, DefaultSlots() * kMilliCpu);

  auto cpus = Parse({"--token-file", token_file_, "--resources", "cpu=2.5"});
  ASSERT_TRUE(cpus.options.has_value());
  EXPECT_EQ(cpus.options->capacity.cpu_milli, 2500u);
  EXPECT_EQ(cpus.options->slots, 2u) << "whole cpus, for coordinators before resources";

  auto slots = Parse({"--token-file", token_file_, "--slots", "3"});
  ASSERT_TRUE(slots.options.has_value());
  EXPECT_EQ(slots.options->capacity.cpu_milli, 3000u) << "--slots N is cpu=N";
}

TEST_F(WorkerOptionsTest, BadResourcesExit2) {
  for (const char* bad : {"gpu=-1", "memory=12Q", "cpu=lots", "GPU=1", "gpu=5000"}) {
    EXPECT_EQ(Parse({"--token-file", token_file_, "--resources", bad}).exit_code, 2) << bad;
  }
  EXPECT_EQ(Parse({"--token-file", token_file_, "--slots", "2", "--resources", "cpu=2"}).exit_code,
            2)
      << "cpu given twice";
  auto message = ResolveCapacity(0, "memory=12Q");
  ASSERT_FALSE(message.ok());
  EXPECT_NE(message.message().find("--resources"), std::string::npos) << message.message();
  EXPECT_NE(message.message().find("12Q"), std::string::npos) << message.message();
  EXPECT_FALSE(ResolveCapacity(2, "gpu=1,cpu=4").ok());
  EXPECT_TRUE(ResolveCapacity(2, "gpu=1").ok());
}

TEST_F(WorkerOptionsTest, MissingOrUnreadableTokenExits2) {
  EXPECT_EQ(Parse({}).exit_code, 2);
  EXPECT_FALSE(Parse({}).options.has_value());
  EXPECT_EQ(Parse({"--token-file", dir_.path() + "/nope"}).exit_code, 2);
  EXPECT_EQ(Parse({"--token-file", dir_.Write("blank", "\n")}).exit_code, 2);
}

TEST_F(WorkerOptionsTest, BadUsageExits2AndHelpExits0) {
  EXPECT_EQ(Parse({"--token-file", token_file_, "--log-level", "loud"}).exit_code, 2);
  EXPECT_EQ(Parse({"--token-file", token_file_, "--slots", "0"}).exit_code, 2);
  EXPECT_EQ(Parse({"--token-file", token_file_, "--labels", "x"}).exit_code, 2);
  EXPECT_EQ(Parse({"--bogus"}).exit_code, 2);
  auto help = Parse({"--help"});
  EXPECT_FALSE(help.options.has_value());
  EXPECT_EQ(help.exit_code, 0);
}

// A CA and worker w1's certificate in `dir`; the --tls-* flags of w1.
std::vector<std::string> WorkerTls(const std::string& dir) {
  EXPECT_TRUE(pki::InitCa(dir, {}).ok());
  pki::IssueOptions o;
  o.name = "w1";
  o.role = pki::Role::kWorker;
  EXPECT_TRUE(pki::IssueCertificate(dir, o).ok());
  return {"--tls-ca", dir + "/ca.crt", "--tls-cert", dir + "/w1.crt", "--tls-key", dir + "/w1.key"};
}

TEST_F(WorkerOptionsTest, TlsNeedsNoTokenAndSendsNone) {
  auto args = WorkerTls(dir_.path() + "/pki");
  auto p = Parse(args);
  ASSERT_TRUE(p.options.has_value()) << p.exit_code;
  EXPECT_TRUE(p.options->tls.has_value());
  EXPECT_EQ(p.options->token, "");
  // A token file beside TLS is the metrics password only: calls carry the certificate alone.
  args.insert(args.end(), {"--token-file", token_file_, "--metrics-listen", "0"});
  auto with_token = Parse(args);
  ASSERT_TRUE(with_token.options.has_value()) << with_token.exit_code;
  EXPECT_EQ(with_token.options->token, "");
  EXPECT_EQ(with_token.options->metrics_password, "abc123");
}

TEST_F(WorkerOptionsTest, TlsRefusesPartialFlagsAndMetricsWithoutAToken) {
  auto args = WorkerTls(dir_.path() + "/pki");
  EXPECT_EQ(Parse({args[0], args[1]}).exit_code, 2) << "--tls-ca alone";
  args.insert(args.end(), {"--metrics-listen", "0"});
  EXPECT_EQ(Parse(args).exit_code, 2) << "no scrape password";
}

TEST_F(WorkerOptionsTest, MetricsBeyondLoopbackNeedInsecurePlaintext) {
  const std::vector<std::string> args = {"--token-file", token_file_, "--metrics-listen",
                                         "0.0.0.0:0"};
  EXPECT_EQ(Parse(args).exit_code, 2) << "plain HTTP beyond loopback without consent";
  auto allowed = args;
  allowed.push_back("--insecure-plaintext");
  auto p = Parse(allowed);
  ASSERT_TRUE(p.options.has_value()) << p.exit_code;
  EXPECT_TRUE(p.options->insecure_plaintext);
  EXPECT_TRUE(Parse({"--token-file", token_file_, "--metrics-listen", "0"}).options.has_value());
}

TEST_F(WorkerOptionsTest, TlsKeyTheCardUserCouldReadIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "cards run as the worker's own user unless it is root";
  auto args = WorkerTls(dir_.path() + "/pki");
  ::chmod((dir_.path() + "/pki/w1.key").c_str(), 0644);
  EXPECT_EQ(Parse(args).exit_code, 2);
}

}  // namespace
}  // namespace hollerith::worker
