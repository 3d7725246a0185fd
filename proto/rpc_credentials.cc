#include "proto/rpc_credentials.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <cstdlib>
#include <tuple>

#include "common/pki/pki.h"
#include "proto/rpc_auth.h"

namespace hollerith::rpc {
namespace {

std::string FlagOrEnv(const std::string& flag, const char* env) {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(env);
  return v != nullptr ? v : "";
}

}  // namespace

TlsFiles ResolveTlsFiles(TlsFiles flags) {
  return {FlagOrEnv(flags.ca, "HOLLERITH_TLS_CA"), FlagOrEnv(flags.cert, "HOLLERITH_TLS_CERT"),
          FlagOrEnv(flags.key, "HOLLERITH_TLS_KEY")};
}

Result<TlsMaterial> LoadTlsMaterial(const TlsFiles& files) {
  if (files.ca.empty() || files.cert.empty() || files.key.empty()) {
    return Status::InvalidArgument(
        "TLS needs all three of --tls-ca, --tls-cert and --tls-key (or HOLLERITH_TLS_CA, "
        "HOLLERITH_TLS_CERT, HOLLERITH_TLS_KEY)");
  }
  TlsMaterial m;
  for (auto [path, out] : {std::pair{&files.ca, &m.ca_pem}, std::pair{&files.cert, &m.cert_pem},
                           std::pair{&files.key, &m.key_pem}}) {
    auto text = pki::ReadFile(*path);
    if (!text.ok()) return text.status();
    *out = std::move(*text);
  }
  if (Status s = pki::CheckKeyMatchesCertificate(m.cert_pem, m.key_pem); !s.ok()) {
    return Status::InvalidArgument(files.key + " and " + files.cert + ": " + s.message());
  }
  if (Status s = pki::VerifyCertificate(m.cert_pem, m.ca_pem); !s.ok()) {
    return Status::InvalidArgument(files.cert + " against " + files.ca + ": " + s.message());
  }
  return m;
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsMaterial* tls) {
  if (tls == nullptr) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls->ca_pem;
  options.pem_private_key = tls->key_pem;
  options.pem_cert_chain = tls->cert_pem;
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           std::shared_ptr<grpc::ChannelCredentials> credentials,
                                           grpc::ChannelArguments args) {
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  return grpc::CreateCustomChannel(address, std::move(credentials), args);
}

Result<std::unique_ptr<ServerTls>> ServerTls::Create(TlsFiles source, std::filesystem::path dir) {
  auto material = LoadTlsMaterial(source);
  if (!material.ok()) return material.status();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // a copy of the source files, made afresh
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Error("cannot create " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  std::unique_ptr<ServerTls> tls(new ServerTls(std::move(source), std::move(dir)));
  if (Status s = tls->Install(*material); !s.ok()) return s;
  const auto current = tls->dir_ / "current";
  tls->provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      (current / "tls.key").string(), (current / "tls.crt").string(), (current / "ca.crt").string(),
      kRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(tls->provider_);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls->credentials_ = grpc::experimental::TlsServerCredentials(options);
  if (!tls->credentials_) return Status::Error("gRPC refused the TLS server credentials");
  return tls;
}

Status ServerTls::Reload() {
  auto material = LoadTlsMaterial(source_);
  if (!material.ok()) return material.status();
  return Install(*material);
}

Status ServerTls::Install(const TlsMaterial& material) {
  std::lock_guard lock(mu_);
  const unsigned gen = ++generation_;
  const auto gen_dir = dir_ / ("gen-" + std::to_string(gen));
  std::error_code ec;
  std::filesystem::create_directory(gen_dir, ec);
  if (ec) return Status::Error("cannot create " + gen_dir.string() + ": " + ec.message());
  for (auto [name, text, mode] : {std::tuple{"ca.crt", &material.ca_pem, 0644u},
                                  std::tuple{"tls.crt", &material.cert_pem, 0644u},
                                  std::tuple{"tls.key", &material.key_pem, 0600u}}) {
    if (Status s = pki::WriteFileAtomically(gen_dir / name, *text, mode, false); !s.ok()) return s;
  }
  // One rename switches key, certificate and CA together: the watcher never pairs a new key with
  // an old certificate for longer than one of its reads (it re-reads when a file changed under it).
  const auto link = dir_ / "current.tmp";
  std::filesystem::remove(link, ec);
  std::filesystem::create_directory_symlink(gen_dir.filename(), link, ec);
  if (!ec) std::filesystem::rename(link, dir_ / "current", ec);
  if (ec)
    return Status::Error("cannot switch " + (dir_ / "current").string() + ": " + ec.message());
  if (gen > 2) std::filesystem::remove_all(dir_ / ("gen-" + std::to_string(gen - 2)), ec);
  return Status::Ok();
}

}  // namespace hollerith::rpc
