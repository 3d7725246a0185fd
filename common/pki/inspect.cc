// Reading certificates: their names and role, key pairs, and verification against a CA bundle.
#include <arpa/inet.h>

#include <ctime>

#include "common/pki/openssl_util.h"
#include "common/pki/pki.h"

namespace hollerith::pki {
namespace {

using namespace detail;

std::chrono::system_clock::time_point ToTimePoint(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string Ia5(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string IpText(const ASN1_OCTET_STRING* s) {
  char buf[INET6_ADDRSTRLEN] = {};
  const int len = ASN1_STRING_length(s);
  const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, ASN1_STRING_get0_data(s), buf, sizeof buf) == nullptr) {
    return "";
  }
  return buf;
}

}  // namespace

Result<CertificateInfo> InspectCertificate(const std::string& pem) {
  X509Ptr cert = ParseCertificate(pem);
  if (!cert) return OpenSslError("not a PEM certificate");
  CertificateInfo info;
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    info.common_name = std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                                   static_cast<size_t>(ASN1_STRING_length(cn)));
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) info.dns.push_back(Ia5(gn->d.dNSName));
    if (gn->type == GEN_IPADD) info.ips.push_back(IpText(gn->d.iPAddress));
    if (gn->type == GEN_URI) {
      info.uris.push_back(Ia5(gn->d.uniformResourceIdentifier));
      if (!info.role) info.role = RoleFromUri(info.uris.back());
    }
  }
  GENERAL_NAMES_free(names);
  info.not_before = ToTimePoint(X509_get0_notBefore(cert.get()));
  info.not_after = ToTimePoint(X509_get0_notAfter(cert.get()));
  info.is_ca = X509_check_ca(cert.get()) > 0;
  return info;
}

Status CheckKeyMatchesCertificate(const std::string& cert_pem, const std::string& key_pem) {
  X509Ptr cert = ParseCertificate(cert_pem);
  if (!cert) return OpenSslError("not a PEM certificate");
  KeyPtr key = ParseKey(key_pem);
  if (!key) {
    ERR_clear_error();
    return Status::InvalidArgument("not a PEM private key");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("the key does not belong to the certificate");
  }
  return Status::Ok();
}

Status VerifyCertificate(const std::string& cert_pem, const std::string& ca_pem) {
  X509Ptr cert = ParseCertificate(cert_pem);
  if (!cert) return OpenSslError("not a PEM certificate");
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  BioPtr bio = ReadBio(ca_pem);
  int cas = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store.get(), ca);
    X509_free(ca);
    ++cas;
  }
  ERR_clear_error();  // the end of the bundle reads as an error
  if (cas == 0) return Status::InvalidArgument("the CA bundle holds no PEM certificate");
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return OpenSslError("cannot verify");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Status::InvalidArgument(std::string("certificate not valid for the CA bundle: ") +
                                   X509_verify_cert_error_string(err));
  }
  return Status::Ok();
}

}  // namespace hollerith::pki
