// Making keys and certificates: the cluster CA and the certificates it signs.
#include <arpa/inet.h>
#include <openssl/bn.h>

#include "common/pki/openssl_util.h"
#include "common/pki/pki.h"

namespace hollerith::pki {
namespace {

using namespace detail;

KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256")); }

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return "";
  }
  return BioText(bio.get());
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return "";
  return BioText(bio.get());
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, valid from now + offset for `days`, with a random serial;
// extensions and signature are the caller's.
X509Ptr NewCertificate(EVP_PKEY* key, const std::string& cn, int days,
                       std::chrono::seconds offset) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return nullptr;
  BIGNUM* serial = BN_new();
  const bool serial_ok = serial != nullptr &&
                         BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
                         BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(serial);
  if (!serial_ok) return nullptr;
  const long off = static_cast<long>(offset.count());
  if (X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, off, nullptr) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, off, nullptr) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return nullptr;
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* o = reinterpret_cast<const unsigned char*>("hollerith");
  const auto* c = reinterpret_cast<const unsigned char*>(cn.c_str());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, o, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, c, -1, -1, 0) != 1) {
    return nullptr;
  }
  return cert;
}

// Refuses before writing anything when either file exists and `force` is not set.
Status CheckFree(const std::filesystem::path& key, const std::filesystem::path& cert, bool force) {
  if (force) return Status::Ok();
  std::error_code ec;
  for (const auto& p : {key, cert}) {
    if (std::filesystem::exists(p, ec)) {
      return Status::Error(StatusCode::kAlreadyExists,
                           p.string() + " exists (pass --force to overwrite it)");
    }
  }
  return Status::Ok();
}

Status WritePair(const std::filesystem::path& key_path, EVP_PKEY* key,
                 const std::filesystem::path& cert_path, X509* cert, bool force) {
  const std::string key_pem = KeyPem(key);
  const std::string cert_pem = CertPem(cert);
  if (key_pem.empty() || cert_pem.empty()) return OpenSslError("cannot encode key or certificate");
  if (Status s = WriteFileAtomically(key_path, key_pem, 0600, force); !s.ok()) return s;
  return WriteFileAtomically(cert_path, cert_pem, 0644, force);
}

}  // namespace

Status InitCa(const std::filesystem::path& dir, const CaOptions& options) {
  if (options.days < 1) return Status::InvalidArgument("--days must be at least 1");
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::Error("cannot create " + dir.string() + ": " + ec.message());
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  const auto key_path = dir / kCaKeyFile;
  const auto cert_path = dir / kCaCertFile;
  if (Status s = CheckFree(key_path, cert_path, options.force); !s.ok()) return s;
  KeyPtr key = NewKey();
  if (!key) return OpenSslError("cannot make a key");
  X509Ptr cert = NewCertificate(key.get(), options.name, options.days, std::chrono::seconds(-300));
  if (!cert) return OpenSslError("cannot make the CA certificate");
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1 ||
      !AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return OpenSslError("cannot sign the CA certificate");
  }
  return WritePair(key_path, key.get(), cert_path, cert.get(), options.force);
}

Result<std::filesystem::path> IssueCertificate(const std::filesystem::path& ca_dir,
                                               const IssueOptions& options) {
  if (Status s = ValidateName(options.name); !s.ok()) return s;
  for (const auto& h : options.hosts) {
    if (Status s = ValidateHost(h); !s.ok()) return s;
  }
  if (options.days < 1) return Status::InvalidArgument("--days must be at least 1");
  auto ca_cert_pem = ReadFile(ca_dir / kCaCertFile);
  auto ca_key_pem = ReadFile(ca_dir / kCaKeyFile);
  if (!ca_cert_pem.ok() || !ca_key_pem.ok()) {
    return Status::NotFound("no cluster CA in " + ca_dir.string() + " (expected " + kCaCertFile +
                            " and " + kCaKeyFile + "; make one with `hollerith certs init " +
                            ca_dir.string() + "`)");
  }
  X509Ptr ca_cert = ParseCertificate(*ca_cert_pem);
  KeyPtr ca_key = ParseKey(*ca_key_pem);
  if (!ca_cert || !ca_key) return OpenSslError("cannot read the CA in " + ca_dir.string());
  const auto out = options.out_dir.empty() ? ca_dir : options.out_dir;
  const auto key_path = out / (options.name + ".key");
  const auto cert_path = out / (options.name + ".crt");
  if (Status s = CheckFree(key_path, cert_path, options.force); !s.ok()) return s;

  KeyPtr key = NewKey();
  if (!key) return OpenSslError("cannot make a key");
  X509Ptr cert = NewCertificate(key.get(), options.name, options.days, options.not_before_offset);
  if (!cert) return OpenSslError("cannot make the certificate");
  std::string san = "URI:" + RoleUri(options.role);
  for (const auto& h : options.hosts) {
    unsigned char addr[16];
    const bool ip =
        inet_pton(AF_INET, h.c_str(), addr) == 1 || inet_pton(AF_INET6, h.c_str(), addr) == 1;
    san += (ip ? ",IP:" : ",DNS:") + h;
  }
  const char* eku = options.role == Role::kCoordinator ? "serverAuth,clientAuth" : "clientAuth";
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1 ||
      !AddExtension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert.get(), ca_cert.get(), NID_key_usage,
                    "critical,digitalSignature,keyEncipherment") ||
      !AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage, eku) ||
      !AddExtension(cert.get(), ca_cert.get(), NID_subject_alt_name, san) ||
      !AddExtension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always") ||
      X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    return OpenSslError("cannot sign the certificate");
  }
  if (Status s = WritePair(key_path, key.get(), cert_path, cert.get(), options.force); !s.ok()) {
    return s;
  }
  return cert_path;
}

}  // namespace hollerith::pki
