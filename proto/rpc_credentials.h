// The one place that builds transport credentials: the channel credentials of workers and
// clients (plaintext, or TLS with a client certificate) and the coordinator's server credentials
// (TLS that requires and verifies client certificates, reloadable without a restart).
#pragma once

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "common/base/status.h"

namespace hollerith::rpc {

// --tls-ca / --tls-cert / --tls-key, each falling back to $HOLLERITH_TLS_CA / _CERT / _KEY.
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
  bool enabled() const { return !ca.empty() || !cert.empty() || !key.empty(); }
};
TlsFiles ResolveTlsFiles(TlsFiles flags);

// The PEM texts of TlsFiles, checked: all three given, the key belongs to the certificate, the
// certificate is signed by the CA bundle. Messages name files, never their contents.
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};
Result<TlsMaterial> LoadTlsMaterial(const TlsFiles& files);

// Plaintext when `tls` is null (loopback / a trusted network; the token authenticates), else TLS
// with the client certificate, the server checked against the CA bundle and the dialled host.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsMaterial* tls);
// A channel with our size limits (and `args` beside them) over `credentials`.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           std::shared_ptr<grpc::ChannelCredentials> credentials,
                                           grpc::ChannelArguments args = {});

// The coordinator's TLS: serves a copy of the material from DIR/current (a symlink to a
// generation directory), through gRPC's file-watching certificate provider. Reload() checks the
// source files again and swaps the copy in one rename, so new handshakes use the new material
// within kRefreshSeconds; established connections keep theirs. On a bad file the old material
// stays in service.
class ServerTls {
 public:
  static constexpr unsigned kRefreshSeconds = 1;
  static Result<std::unique_ptr<ServerTls>> Create(TlsFiles source, std::filesystem::path dir);
  std::shared_ptr<grpc::ServerCredentials> credentials() const { return credentials_; }
  Status Reload();
  const TlsFiles& source() const { return source_; }

 private:
  ServerTls(TlsFiles source, std::filesystem::path dir) : source_(std::move(source)), dir_(dir) {}
  Status Install(const TlsMaterial& material);

  TlsFiles source_;
  std::filesystem::path dir_;
  std::mutex mu_;
  unsigned generation_ = 0;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
};

}  // namespace hollerith::rpc
