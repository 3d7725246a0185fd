// The cluster's certificates: a CA, certificates carrying their role and hosts, keys written 0600,
// nothing overwritten without force, verification against the right CA only.
#include "common/pki/pki.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "tests/support/temp_dir.h"

namespace hollerith::pki {
namespace {

using hollerith::testing::TempDir;

unsigned ModeOf(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

std::string Read(const std::filesystem::path& p) {
  auto text = ReadFile(p);
  EXPECT_TRUE(text.ok()) << text.message();
  return text.ok() ? *text : "";
}

TEST(Pki, RolesRoundTripThroughTheirUri) {
  for (Role r : {Role::kCoordinator, Role::kWorker, Role::kClient}) {
    EXPECT_EQ(RoleFromUri(RoleUri(r)), r);
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_EQ(RoleUri(Role::kWorker), "hollerith://role/worker");
  EXPECT_FALSE(RoleFromUri("hollerith://role/admin"));
  EXPECT_FALSE(RoleFromUri("https://role/worker"));
}

TEST(Pki, IssuedCertificateCarriesRoleNameAndHostsAndChainsToItsCa) {
  TempDir dir;
  const std::filesystem::path ca = dir.path() + "/ca";
  ASSERT_TRUE(InitCa(ca, {}).ok());
  EXPECT_EQ(ModeOf(ca / kCaKeyFile), 0600u);
  auto ca_info = InspectCertificate(Read(ca / kCaCertFile));
  ASSERT_TRUE(ca_info.ok()) << ca_info.message();
  EXPECT_TRUE(ca_info->is_ca);

  IssueOptions o;
  o.name = "coord";
  o.role = Role::kCoordinator;
  o.hosts = {"127.0.0.1", "coord.example.org", "::1"};
  auto cert = IssueCertificate(ca, o);
  ASSERT_TRUE(cert.ok()) << cert.message();
  EXPECT_EQ(*cert, ca / "coord.crt");
  EXPECT_EQ(ModeOf(ca / "coord.key"), 0600u);
  EXPECT_EQ(ModeOf(ca / "coord.crt"), 0644u);
  auto info = InspectCertificate(Read(*cert));
  ASSERT_TRUE(info.ok()) << info.message();
  EXPECT_EQ(info->common_name, "coord");
  EXPECT_EQ(info->role, Role::kCoordinator);
  EXPECT_FALSE(info->is_ca);
  EXPECT_EQ(info->dns, std::vector<std::string>{"coord.example.org"});
  EXPECT_EQ(info->ips, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(info->uris, std::vector<std::string>{"hollerith://role/coordinator"});
  const auto now = std::chrono::system_clock::now();
  EXPECT_LT(info->not_before, now);
  EXPECT_GT(info->not_after, now + std::chrono::hours(24 * 800));

  EXPECT_TRUE(CheckKeyMatchesCertificate(Read(*cert), Read(ca / "coord.key")).ok());
  EXPECT_FALSE(CheckKeyMatchesCertificate(Read(*cert), Read(ca / kCaKeyFile)).ok());
  EXPECT_TRUE(VerifyCertificate(Read(*cert), Read(ca / kCaCertFile)).ok());

  // Another CA does not vouch for it.
  const std::filesystem::path other = dir.path() + "/other";
  ASSERT_TRUE(InitCa(other, {}).ok());
  Status foreign = VerifyCertificate(Read(*cert), Read(other / kCaCertFile));
  EXPECT_FALSE(foreign.ok());
  // A bundle of both does (rotation: old and new CA side by side).
  EXPECT_TRUE(
      VerifyCertificate(Read(*cert), Read(other / kCaCertFile) + Read(ca / kCaCertFile)).ok());
}

TEST(Pki, ExpiredCertificateFailsVerification) {
  TempDir dir;
  ASSERT_TRUE(InitCa(dir.path(), {}).ok());
  IssueOptions o;
  o.name = "old";
  o.role = Role::kClient;
  o.not_before_offset = -std::chrono::hours(48);
  o.days = 1;
  auto cert = IssueCertificate(dir.path(), o);
  ASSERT_TRUE(cert.ok()) << cert.message();
  auto info = InspectCertificate(Read(*cert));
  ASSERT_TRUE(info.ok());
  EXPECT_LT(info->not_after, std::chrono::system_clock::now());
  Status s = VerifyCertificate(Read(*cert), Read(std::filesystem::path(dir.path()) / kCaCertFile));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("expired"), std::string::npos) << s.message();
}

TEST(Pki, RefusesToOverwriteWithoutForceAndExplainsAMissingCa) {
  TempDir dir;
  IssueOptions o;
  o.name = "w1";
  o.role = Role::kWorker;
  auto no_ca = IssueCertificate(dir.path(), o);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_NE(no_ca.message().find("hollerith certs init"), std::string::npos) << no_ca.message();

  ASSERT_TRUE(InitCa(dir.path(), {}).ok());
  const std::string ca_before = Read(std::filesystem::path(dir.path()) / kCaCertFile);
  Status again = InitCa(dir.path(), {});
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.message().find("--force"), std::string::npos) << again.message();
  EXPECT_EQ(Read(std::filesystem::path(dir.path()) / kCaCertFile), ca_before);

  ASSERT_TRUE(IssueCertificate(dir.path(), o).ok());
  const std::string key_before = Read(std::filesystem::path(dir.path()) / "w1.key");
  auto twice = IssueCertificate(dir.path(), o);
  EXPECT_FALSE(twice.ok());
  EXPECT_EQ(Read(std::filesystem::path(dir.path()) / "w1.key"), key_before);
  o.force = true;
  ASSERT_TRUE(IssueCertificate(dir.path(), o).ok());
  EXPECT_NE(Read(std::filesystem::path(dir.path()) / "w1.key"), key_before);
  EXPECT_EQ(ModeOf(std::filesystem::path(dir.path()) / "w1.key"), 0600u);
}

TEST(Pki, RejectsBadNamesAndHosts) {
  EXPECT_TRUE(ValidateHost("10.0.0.7").ok());
  EXPECT_TRUE(ValidateHost("*.nodes.example").ok());
  EXPECT_TRUE(ValidateHost("fe80::1").ok());
  EXPECT_FALSE(ValidateHost("a,URI:evil").ok()) << "no injection into the SAN list";
  EXPECT_FALSE(ValidateHost("").ok());
  EXPECT_FALSE(ValidateName("../x").ok());
  EXPECT_FALSE(ValidateName("").ok());
  EXPECT_TRUE(ValidateName("worker-1.eu").ok());
}

}  // namespace
}  // namespace hollerith::pki
