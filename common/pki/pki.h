// Family common/pki/: the cluster's certificates. May use: base, OpenSSL. Knows nothing of the
// network, jobs or gRPC.
//
// A cluster CA (an EC P-256 key and a self-signed certificate) signs one certificate per
// coordinator, worker and client. The role is recorded in the certificate as a URI
// subjectAltName, `hollerith://role/<coordinator|worker|client>`, beside the --host names (DNS or
// IP subjectAltNames); the common name is the certificate's NAME (a worker's name). Coordinator
// certificates may serve TLS (extended key usage serverAuth and clientAuth), the others are for
// clients only (clientAuth), so a worker's certificate cannot pose as the coordinator.
// Key files are created with mode 0600 (never widened); every file is written to a temporary name
// and renamed into place, so a reader never sees half a file.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace hollerith::pki {

enum class Role { kCoordinator, kWorker, kClient };

inline constexpr std::string_view kRoleUriPrefix = "hollerith://role/";
inline constexpr const char* kCaKeyFile = "ca.key";
inline constexpr const char* kCaCertFile = "ca.crt";

const char* RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);
// "hollerith://role/worker" -> kWorker; anything else -> nullopt.
std::optional<Role> RoleFromUri(std::string_view uri);
std::string RoleUri(Role role);

struct CaOptions {
  std::string name = "hollerith cluster CA";
  int days = 3650;
  bool force = false;  // overwrite an existing ca.key / ca.crt
};
// Writes DIR/ca.key (0600) and DIR/ca.crt; creates DIR (0700) if missing.
Status InitCa(const std::filesystem::path& dir, const CaOptions& options);

struct IssueOptions {
  std::string name;  // common name, and the files' stem: NAME.key, NAME.crt
  Role role = Role::kClient;
  std::vector<std::string> hosts;  // DNS names or IP addresses
  int days = 825;
  // Start of the validity window relative to now (negative: in the past). With `days`, tests
  // make an expired certificate: not_before_offset = -2 days, days = 1.
  std::chrono::seconds not_before_offset{-300};
  bool force = false;             // overwrite existing NAME.key / NAME.crt
  std::filesystem::path out_dir;  // default: the CA's directory
};
// Signs NAME's new key with the CA in `ca_dir`; writes OUT/NAME.key (0600) and OUT/NAME.crt.
// Returns the certificate's path.
Result<std::filesystem::path> IssueCertificate(const std::filesystem::path& ca_dir,
                                               const IssueOptions& options);

// Host names given to --host: a DNS name (letters, digits, '-', '.', a leading "*.") or an IPv4 /
// IPv6 address. Error names the bad one.
Status ValidateHost(const std::string& host);
// NAME for the files and the common name: [A-Za-z0-9._-], not starting with '.' or '-'.
Status ValidateName(const std::string& name);

struct CertificateInfo {
  std::string common_name;
  std::optional<Role> role;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  std::vector<std::string> uris;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  bool is_ca = false;
};
// Parses the first certificate of a PEM text.
Result<CertificateInfo> InspectCertificate(const std::string& pem);

// OK when `key_pem` is the private key of the first certificate in `cert_pem`. Messages never
// quote the key.
Status CheckKeyMatchesCertificate(const std::string& cert_pem, const std::string& key_pem);
// OK when the first certificate of `cert_pem` is signed by one of the CA certificates in
// `ca_pem` and valid now.
Status VerifyCertificate(const std::string& cert_pem, const std::string& ca_pem);

// Reads a whole file; errors name the path.
Result<std::string> ReadFile(const std::filesystem::path& path);
// Writes `data` to `path` through a temporary file created with `mode` (e.g. 0600) in the same
// directory and renamed into place. Without `overwrite`, an existing `path` is an error.
Status WriteFileAtomically(const std::filesystem::path& path, const std::string& data,
                           unsigned mode, bool overwrite);

}  // namespace hollerith::pki
