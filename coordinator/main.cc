// hollerith-coordinator: accepts jobs, places stacks on workers, releases dependencies, keeps the
// record. Thin: flags, credentials (tokens or TLS, reloaded on SIGHUP), gRPC server, and the one
// event loop that owns all state.
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>

#include <malloc.h>

#include <unistd.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/auth/auth_token.h"
#include "common/base/asio_timers.h"
#include "common/base/listen_address.h"
#include "common/base/version.h"
#include "common/log/log.h"
#include "common/log/log_flags.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/spec/quantities.h"
#include "coordinator/data_dir_lock.h"
#include "coordinator/postgres_artifacts.h"
#include "coordinator/postgres_job_store.h"
#include "coordinator/postgres_leadership.h"
#include "coordinator/service.h"
#include "coordinator/sqlite_job_store.h"
#include "coordinator/standby_server.h"
#include "coordinator/web/web_server.h"
#include "proto/rpc_auth.h"
#include "proto/rpc_authorizer.h"
#include "proto/rpc_credentials.h"
#include "proto/rpc_runtime.h"

namespace {

struct Flags {
  std::string listen = "127.0.0.1:7070";
  std::string data_dir = "/var/tmp/hollerith-coordinator";
  std::string token_file;
  std::string worker_token_file;
  std::string client_token_file;
  std::string named_token_file;
  hollerith::rpc::TlsFiles tls;
  bool insecure_plaintext = false;
  std::string log_level = "info";
  std::string log_format = "text";
  int heartbeat_ms = 1000;
  int missed_heartbeats = 5;
  int claim_window_ms = 0;
  // A spec travels in one message: the limit is what fits in one (256 MiB) with room for the rest.
  size_t max_spec_bytes = hollerith::rpc::kMaxMessageBytes - (size_t{1} << 20);
  std::string store = "sqlite";
  std::string store_passfile;
  std::string cluster = "hollerith";
  std::string advertise;
  int leader_lease_ms = 2000;
  std::string cache_max_bytes = "10GiB";
  std::string retention = "7d";
  std::string sync = "normal";
  std::string metrics_listen;
  std::string http_listen = "127.0.0.1:7080";
  std::string tenants;
};

// "30m", "12h", "7d", "90s" or "0".
std::optional<std::chrono::milliseconds> ParseRetention(const std::string& text) {
  if (text == "0") return std::chrono::milliseconds(0);
  if (text.size() < 2) return std::nullopt;
  char* end = nullptr;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  if (n <= 0 || end != text.c_str() + text.size() - 1) return std::nullopt;
  switch (text.back()) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::minutes(n);
    case 'h':
      return std::chrono::hours(n);
    case 'd':
      return std::chrono::hours(24 * n);
    default:
      return std::nullopt;
  }
}

// Prints why the coordinator cannot start; its exit code.
int Refuse(const hollerith::Status& why) {
  std::fprintf(stderr, "%s\n", why.message().c_str());
  return 2;
}

hollerith::coordinator::PostgresOptions PostgresFlags(const Flags& f) {
  hollerith::coordinator::PostgresOptions o;
  o.uri = f.store;
  o.passfile = f.store_passfile;
  o.cluster = f.cluster;
  return o;
}

// This coordinator stops at once: another leads now, and the store refused (or would refuse) its
// writes. Nothing it held is lost: what it acknowledged is in the database, and its workers
// reconnect to the leader, which reconciles their claims.
[[noreturn]] void StepDown(const std::string& why) {
  spdlog::critical("{}: stopping", why);
  spdlog::shutdown();
  std::fprintf(stderr, "not the leader any more: %s\n", why.c_str());
  std::_Exit(3);
}

// `metrics`, when given, observes the durable store's commits; `epoch` fences a PostgreSQL
// store's writes (the leadership's).
hollerith::Result<std::unique_ptr<hollerith::coordinator::JobStore>> OpenStore(
    const Flags& f, hollerith::coordinator::CoordinatorMetrics* metrics, uint64_t epoch) {
  using namespace hollerith::coordinator;
  if (f.store == "memory") return std::unique_ptr<JobStore>(std::make_unique<MemoryJobStore>());
  auto opened = IsPostgresUri(f.store)
                    ? OpenPostgresStore(PostgresFlags(f), epoch)
                    : OpenSqliteStore(f.data_dir + "/jobs.db",
                                      f.sync == "full" ? SyncMode::kFull : SyncMode::kNormal);
  if (!opened.ok()) return opened.status();
  if (metrics) {
    opened.value()->SetCommitObserver(
        [h = metrics->store_commit](double seconds) { h->Observe(seconds); });
  }
  opened.value()->SetFencedHandler([](const hollerith::Status& why) { StepDown(why.message()); });
  return std::unique_ptr<JobStore>(std::move(opened).value());
}

// What SIGHUP does: new token files and TLS material for new calls and handshakes; a failure
// keeps the old ones in service.
void Reload(hollerith::rpc::Authorizer& auth, hollerith::rpc::ServerTls* tls) {
  if (tls != nullptr) {
    hollerith::Status s = tls->Reload();
    if (s.ok()) {
      spdlog::info("SIGHUP: reloaded TLS certificate, key and CA bundle");
    } else {
      spdlog::error("SIGHUP: kept the old TLS material: {}", s.message());
    }
    if (!auth.has_tokens()) return;
  }
  auto revoked = auth.Reload();
  if (revoked.ok()) {
    spdlog::info("SIGHUP: reloaded token files; closed {} stream(s) of revoked tokens", *revoked);
  } else {
    spdlog::error("SIGHUP: kept the old tokens: {}", revoked.message());
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hollerith;
  // All job state lives on the loop thread; gRPC's threads only allocate messages that the loop
  // frees. With glibc's default of one malloc arena per thread, what they free stays stranded in
  // their arenas: ~90 bytes per card of a million-card job. Two arenas are plenty here. (Where
  // tcmalloc is linked, see HOLLERITH_TCMALLOC, this does nothing: it has no such arenas.)
  mallopt(M_ARENA_MAX, 2);
  rpc::SkipMutexCycleChecks();
  Flags f;
  CLI::App app{"hollerith-coordinator: accepts jobs and ships their stacks to workers"};
  app.add_option("--listen", f.listen, "Address to listen on (port 0 picks a free port)")
      ->capture_default_str();
  app.add_option("--data-dir", f.data_dir,
                 "Where the job store (jobs.db), the token and artifacts are kept; one "
                 "coordinator per data dir")
      ->capture_default_str();
  app.add_option("--store", f.store,
                 "sqlite: every accepted job, result and trace survives a restart or kill -9 "
                 "(DATA_DIR/jobs.db); postgres://[USER@]HOST[:PORT]/DB[?sslmode=verify-full]: the "
                 "same, on a PostgreSQL server (password from --store-passfile, PGPASSFILE, "
                 "~/.pgpass or PGPASSWORD, never in the URI); memory: nothing survives (throwaway "
                 "clusters, benchmarks)")
      ->check([](const std::string& v) {
        return v == "sqlite" || v == "memory" || coordinator::IsPostgresUri(v)
                   ? std::string()
                   : "expected sqlite, memory or a postgres:// URI";
      })
      ->capture_default_str();
  app.add_option("--store-passfile", f.store_passfile,
                 "A libpq password file (HOST:PORT:DB:USER:PASSWORD lines, mode 0600) for a "
                 "postgres:// store")
      ->check(CLI::ExistingFile);
  app.add_option("--leader-lease-ms", f.leader_lease_ms,
                 "With a postgres:// store, several coordinators may share the database: one "
                 "leads and renews a lease this long, the others wait; when the leader dies or "
                 "loses the database, a standby takes over within about this long")
      ->check(CLI::Range(200, 600000))
      ->capture_default_str();
  app.add_option("--advertise", f.advertise,
                 "With a postgres:// store: the HOST:PORT where clients and workers reach this "
                 "coordinator, which standbys name when they answer \"not the leader; the leader "
                 "is HOST:PORT\" (default: --listen's host with the port it got, or this "
                 "machine's name when listening on every interface)");
  app.add_option("--cluster", f.cluster,
                 "The cluster's name, recorded in a postgres:// store at its creation: a "
                 "coordinator of another cluster is refused there")
      ->capture_default_str();
  app.add_option("--cache-max-bytes", f.cache_max_bytes,
                 "Bound of the result cache (DATA_DIR/cache.db; cards with `cache: true`): what "
                 "its entries' stdout and outputs add up to; the least recently used go first. "
                 "0: no bound")
      ->check([](const std::string& v) {
        return v == "0" || ParseSize(v).ok() ? std::string()
                                             : "expected a size such as 10GiB, 500MB or 0";
      })
      ->capture_default_str();
  app.add_option("--retention", f.retention,
                 "How long finished jobs (results, logs, traces) are kept: 30m, 12h, 7d; 0 keeps "
                 "them forever")
      ->check([](const std::string& v) {
        return ParseRetention(v) ? std::string() : "expected a duration such as 30m, 12h, 7d or 0";
      })
      ->capture_default_str();
  app.add_option("--sync", f.sync,
                 "normal: commits survive a crash of the process; full: also a power loss "
                 "(an fsync per commit)")
      ->check(CLI::IsMember({"normal", "full"}))
      ->capture_default_str();
  auto* http_listen =
      app.add_option(
             "--http-listen", f.http_listen,
             "Web view (job list, job pages; a client token logs in): HOST:PORT, or PORT on "
             "127.0.0.1; port 0 picks a free port; empty turns it off. If the default "
             "port is taken, the coordinator runs without it")
          ->capture_default_str();
  app.add_option("--token-file", f.token_file,
                 "Bearer token file granting both roles, worker and client (default: "
                 "DATA_DIR/token, created if missing, unless --worker-token-file or "
                 "--client-token-file is given). With TLS only the password of metrics scrapes");
  app.add_option("--worker-token-file", f.worker_token_file,
                 "Token file of workers: opens worker sessions, moves artifacts and uploads "
                 "logs, nothing else. Rewrite it and send SIGHUP to revoke the old token");
  app.add_option("--named-token-file", f.named_token_file,
                 "Client tokens with names, one NAME:TOKEN per line: a call with one of them is "
                 "made by NAME, which is its tenant (--tenants). Reloaded on SIGHUP");
  app.add_option("--client-token-file", f.client_token_file,
                 "Token file of clients: submit, watch, cancel, delete, read; cannot register "
                 "as a worker; also the password of metrics scrapes");
  app.add_option("--tls-cert", f.tls.cert,
                 "TLS certificate of the coordinator (`hollerith certs issue NAME --role "
                 "coordinator --host ...`); with --tls-key and --tls-ca, clients and workers "
                 "must present certificates of the cluster CA, and their role comes from them");
  app.add_option("--tls-key", f.tls.key, "Private key of --tls-cert");
  app.add_option("--tls-ca", f.tls.ca,
                 "CA bundle that client and worker certificates must chain to (ca.crt of "
                 "`hollerith certs init`). SIGHUP reloads cert, key and bundle");
  app.add_flag("--insecure-plaintext", f.insecure_plaintext,
               "Allow listening beyond loopback without TLS (tokens and jobs then cross the "
               "network unencrypted; a warning is printed and shown by `hollerith workers`); "
               "also needed for --http-listen and --metrics-listen beyond loopback, which are "
               "plain HTTP");
  log::AddLogFlags(app, f.log_level, f.log_format);
  app.add_option("--tenants", f.tenants,
                 "YAML file of tenants: each one's weight (its fair share) and quotas (most cpu, "
                 "memory, named resources and stacks its placed stacks hold at once), and which "
                 "credentials may submit as it. Reloaded on SIGHUP (a file that does not parse "
                 "keeps the old one). See `hollerith help cluster`");
  app.add_option("--heartbeat-ms", f.heartbeat_ms, "Worker heartbeat interval")
      ->capture_default_str();
  app.add_option("--missed-heartbeats", f.missed_heartbeats,
                 "Heartbeats a worker may miss before its stacks are re-placed")
      ->capture_default_str();
  app.add_option("--claim-window-ms", f.claim_window_ms,
                 "After a restart, how long the stacks that were running wait for their workers "
                 "to reconnect and claim them (they go on under their attempt) before they are "
                 "re-placed with the next attempt; 0: two leases (heartbeat x missed heartbeats "
                 "x 2)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--max-spec-bytes", f.max_spec_bytes,
                 "Largest job spec accepted (at most the default: a spec travels in one gRPC "
                 "message of at most 256 MiB)")
      ->check(CLI::Range(size_t{1}, f.max_spec_bytes))
      ->capture_default_str();
  app.add_option("--metrics-listen", f.metrics_listen,
                 "Serve Prometheus metrics on http://HOST:PORT/metrics: PORT alone listens on "
                 "127.0.0.1, HOST:PORT on that address, port 0 picks a free port (printed as "
                 "`metrics on URL`); scrapes present a client token (--client-token-file or "
                 "--token-file) as `Authorization: Bearer TOKEN` or as the basic auth password; "
                 "default: empty, no "
                 "metrics (env HOLLERITH_METRICS_LISTEN)")
      ->envname("HOLLERITH_METRICS_LISTEN");
  app.set_version_flag("--version", std::string("hollerith-coordinator ") + kVersionString);
  CLI11_PARSE(app, argc, argv);
  log::Setup("coordinator", f.log_level, *log::ParseFormat(f.log_format));

  std::error_code ec;
  std::filesystem::create_directories(f.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create data dir %s: %s\n", f.data_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  auto lock = coordinator::DataDirLock::Acquire(f.data_dir);
  if (!lock.ok()) return Refuse(lock.status());
  // Credentials: certificates (TLS) or token files, and who may listen where without TLS.
  std::unique_ptr<rpc::ServerTls> tls;
  if (f.tls.enabled()) {
    auto made = rpc::ServerTls::Create(f.tls, std::filesystem::path(f.data_dir) / "tls");
    if (!made.ok()) return Refuse(made.status());
    tls = std::move(made).value();
  }
  const bool exposed_plaintext = !tls && !IsLoopbackAddress(f.listen);
  if (exposed_plaintext && !f.insecure_plaintext) {
    return Refuse(Status::FailedPrecondition(
        "refusing to listen on " + f.listen +
        " without TLS: anyone on the network could read the token and run commands on every "
        "worker. Give --tls-cert, --tls-key and --tls-ca (see `hollerith certs`), listen on "
        "127.0.0.1, or accept the risk with --insecure-plaintext"));
  }
  // The web view and the metrics endpoint are plain HTTP, and a client token travels to them (the
  // login cookie, the scrape password): beyond loopback they too need --insecure-plaintext.
  for (const auto& [flag, text] : {std::pair{"--http-listen", &f.http_listen},
                                   std::pair{"--metrics-listen", &f.metrics_listen}}) {
    auto exposed = CheckPlainHttpListen(flag, *text, f.insecure_plaintext);
    if (!exposed.ok()) return Refuse(exposed.status());
    if (*exposed) {
      spdlog::warn("--insecure-plaintext: {} {} serves plain HTTP beyond loopback", flag, *text);
    }
  }
  rpc::TokenFiles token_files{f.token_file, f.worker_token_file, f.client_token_file,
                              f.named_token_file};
  const bool scoped = !f.worker_token_file.empty() || !f.client_token_file.empty();
  // Metrics scrapes authenticate with a client token (bearer or basic auth), with TLS too: there
  // the token files guard the scrapes and nothing else. With TLS, a token only opens the HTTP
  // endpoints (metrics, web view): made if one is on.
  const bool http = !f.metrics_listen.empty() || !f.http_listen.empty();
  const bool default_token = tls ? http && token_files.both.empty() && token_files.client.empty()
                                 : token_files.both.empty() && !scoped;
  if (default_token) {
    token_files.both = f.data_dir + "/token";
    if (!LoadToken(token_files.both).ok()) {
      if (auto made = CreateTokenFile(token_files.both); !made.ok()) return Refuse(made.status());
    }
  }
  std::unique_ptr<rpc::Authorizer> auth;
  {
    auto made = tls ? rpc::Authorizer::ForCertificates(token_files)
                    : rpc::Authorizer::ForTokens(token_files);
    if (!made.ok()) return Refuse(made.status());
    auth = std::move(made).value();
  }
  if (!f.metrics_listen.empty() && token_files.both.empty() && token_files.client.empty()) {
    return Refuse(Status::InvalidArgument(
        "--metrics-listen needs a client token: scrapes give the token of --client-token-file "
        "or --token-file as their basic-auth password"));
  }
  std::unique_ptr<coordinator::CoordinatorMetrics> metrics;
  if (!f.metrics_listen.empty()) {
    if (auto parsed = ParseListenAddress(f.metrics_listen, "metrics address"); !parsed.ok()) {
      return Refuse(parsed.status());
    }
    metrics = std::make_unique<coordinator::CoordinatorMetrics>();
  }
  // On PostgreSQL, several coordinators may share the database: one leads, the others wait here,
  // listening already, to tell callers who leads. The leader listens on the same port.
  const auto server_credentials = tls ? tls->credentials() : grpc::InsecureServerCredentials();
  const std::string host = f.listen.substr(0, f.listen.rfind(':'));
  std::string listen = f.listen;
  std::unique_ptr<coordinator::PostgresLeadership> leadership;
  uint64_t epoch = 0;
  if (coordinator::IsPostgresUri(f.store)) {
    char host_name[256] = "?";
    ::gethostname(host_name, sizeof host_name - 1);
    leadership = std::make_unique<coordinator::PostgresLeadership>(
        PostgresFlags(f), std::string(host_name) + ":" + std::to_string(::getpid()),
        std::chrono::milliseconds(f.leader_lease_ms));
    if (Status s = leadership->Open(); !s.ok()) return Refuse(s);
    auto standby = coordinator::StandbyServer::Start(f.listen, server_credentials, *auth);
    if (!standby.ok()) return Refuse(standby.status());
    listen = host + ":" + std::to_string((*standby)->port());
    const bool everywhere = host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::";
    const std::string advertised = !f.advertise.empty()
                                       ? f.advertise
                                       : (everywhere ? std::string(host_name) : host) + ":" +
                                             std::to_string((*standby)->port());
    bool said = false;
    auto led = leadership->Acquire(advertised, [&](const std::string& leader) {
      (*standby)->SetLeader(leader);
      if (said) return;
      said = true;
      std::printf("standby on %s\n", listen.c_str());
      std::fflush(stdout);
    });
    if (!led.ok()) return Refuse(led.status());
    epoch = *led;
    leadership->KeepLeading([](const std::string& why) { StepDown(why); });
    (*standby)->Stop();  // frees the port for the real server (renewing meanwhile)
  }
  auto store = OpenStore(f, metrics.get(), epoch);
  if (!store.ok()) return Refuse(store.status());
  auto recovered = (*store)->Load();
  if (!recovered.ok()) return Refuse(recovered.status());

  asio::io_context loop;
  coordinator::CoordinatorConfig config;
  config.heartbeat = std::chrono::milliseconds(f.heartbeat_ms);
  config.missed_heartbeats = f.missed_heartbeats;
  config.claim_window = std::chrono::milliseconds(f.claim_window_ms);
  config.retention = *ParseRetention(f.retention);
  config.log_dir = std::filesystem::path(f.data_dir) / "logs";
  AsioTimerFactory time(loop);
  coordinator::Coordinator brain(loop, time, config, **store);
  brain.SetMetrics(metrics.get());
  ArtifactStore artifacts(std::filesystem::path(f.data_dir) / "artifacts");
  // On PostgreSQL the artifacts are kept in the database too: a coordinator taking over has them.
  std::unique_ptr<coordinator::PostgresArtifacts> shared_artifacts;
  if (leadership) {
    shared_artifacts = std::make_unique<coordinator::PostgresArtifacts>(PostgresFlags(f));
    if (Status s = shared_artifacts->Open(); !s.ok()) return Refuse(s);
    artifacts.SetReplica(shared_artifacts.get());
  }
  brain.SetArtifacts(&artifacts);
  {
    // Damage is a miss, never a refusal to start: without its database the cache is off, and
    // every cacheable card says why in `hollerith status`.
    const uint64_t bound = f.cache_max_bytes == "0" ? 0 : *ParseSize(f.cache_max_bytes);
    const std::filesystem::path path = f.store == "memory"
                                           ? std::filesystem::path()
                                           : std::filesystem::path(f.data_dir) / "cache.db";
    auto cache = ResultCache::Open(path, bound);
    if (!cache.ok()) spdlog::warn("running without a result cache: {}", cache.message());
    brain.SetResultCache(cache.ok() ? std::move(cache).value() : nullptr,
                         cache.ok() ? "" : cache.message(), &artifacts);
  }
  SpecLimits limits;
  limits.max_file_bytes = f.max_spec_bytes;
  if (!f.tenants.empty()) {
    auto tenants = coordinator::TenantTable::Load(f.tenants);
    if (!tenants.ok()) return Refuse(tenants.status());
    spdlog::info("tenants from {}: {} named", f.tenants, tenants->named().size());
    brain.SetTenants(std::move(tenants).value());
  }
  brain.Recover(*recovered, limits);
  coordinator::Service service(brain, artifacts, *auth, limits, exposed_plaintext);
  service.SetMetrics(metrics.get());

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, server_credentials, &port);
  rpc::ApplyServerLimits(builder);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "cannot listen on %s\n", f.listen.c_str());
    return 2;
  }
  if (leadership) {
    std::printf("leading: epoch %llu\n", static_cast<unsigned long long>(epoch));
  }
  std::printf("listening on %s:%d\n", host.c_str(), port);
  if (tls) std::printf("tls: client certificates of %s required\n", f.tls.ca.c_str());
  if (!token_files.both.empty()) {
    std::printf("%s: %s\n", tls ? "http token file" : "token file", token_files.both.c_str());
  }
  if (scoped) {
    std::printf("worker token file: %s\nclient token file: %s\n",
                token_files.worker.empty() ? "(none)" : token_files.worker.c_str(),
                token_files.client.empty() ? "(none)" : token_files.client.c_str());
  }
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  if (metrics) {
    // Any token that grants the client role may scrape (not a worker-only token).
    auto started = MetricsEndpoint::Start(
        f.metrics_listen, metrics->registry, [&brain] { brain.RefreshMetrics(); },
        [&auth](const std::string& password) { return auth->GrantsClient(password); });
    if (!started.ok()) return Refuse(started.status());
    metrics_endpoint = std::move(started).value();
    std::printf("metrics on %s\n", metrics_endpoint->url().c_str());
    spdlog::info("metrics on {}", metrics_endpoint->url());
  }
  // The web view logs in with a client token (--client-token-file's or --token-file's, as the
  // authorizer holds them now, so SIGHUP rotates them here too) and calls the service with the
  // token each request presents, over the in-process channel, where the authorizer takes tokens
  // under TLS too.
  const bool web_token = !token_files.client.empty() || !token_files.both.empty();
  if (!f.http_listen.empty() && !web_token) {
    if (http_listen->count() > 0) {
      return Refuse(Status::InvalidArgument(
          "--http-listen needs a client token (--client-token-file or --token-file) to log in "
          "with"));
    }
    spdlog::warn("no web view: it needs a client token (--client-token-file or --token-file)");
  }
  auto webview = !web_token
                     ? Result<std::unique_ptr<web::WebServer>>(std::unique_ptr<web::WebServer>())
                     : web::StartWebView(
                           *server, f.http_listen,
                           [&auth](std::string_view token) { return auth->GrantsClient(token); },
                           http_listen->count() > 0);
  if (!webview.ok()) return Refuse(webview.status());
  if (*webview) std::printf("web view: %s\n", (*webview)->url().c_str());
  std::fflush(stdout);
  spdlog::info("listening on {}:{}; {}", host, port,
               tls ? "TLS with client certificates" : "bearer tokens, plaintext");
  if (exposed_plaintext) {
    spdlog::warn(
        "--insecure-plaintext: listening on {} without TLS; tokens and jobs cross the "
        "network unencrypted",
        f.listen);
  }

  brain.Start();
  std::thread stopper;
  asio::signal_set signals(loop, SIGINT, SIGTERM);
  // SIGHUP: reload token files (revoked tokens lose their streams) and TLS material, off the loop
  // (cancelling a stream may run its reactor's completion, which takes the state).
  std::vector<std::thread> reloads;
  asio::signal_set hangup(loop, SIGHUP);
  std::function<void()> await_hangup = [&] {
    hangup.async_wait([&](const std::error_code& e, int) {
      if (e) return;
      reloads.emplace_back([&] {
        Reload(*auth, tls.get());
        if (f.tenants.empty()) return;
        auto tenants = coordinator::TenantTable::Load(f.tenants);
        if (tenants.ok()) {
          spdlog::info("SIGHUP: reloaded tenants from {}", f.tenants);
          brain.SetTenants(std::move(tenants).value());
        } else {
          spdlog::error("SIGHUP: kept the old tenants: {}", tenants.message());
        }
      });
      await_hangup();
    });
  };
  await_hangup();
  signals.async_wait([&](const std::error_code& e, int sig) {
    if (e) return;
    spdlog::info("signal {}: shutting down", sig);
    // Shutdown waits for in-flight calls, whose handlers need the loop: run it off the loop.
    stopper = std::thread([&] {
      if (*webview) (*webview)->Stop();
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
      asio::post(loop, [&] { loop.stop(); });
    });
  });
  loop.run();
  if (stopper.joinable()) stopper.join();
  metrics_endpoint.reset();  // no scrape may take the state any more
  webview->reset();          // after the gRPC server: its log readers end with it
  for (auto& t : reloads) t.join();
  brain.Flush();
  if (leadership) leadership->Resign();  // after the last write: a standby takes over at once
  return 0;
}
