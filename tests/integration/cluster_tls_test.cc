// Mutual TLS and scoped credentials, with the real binaries on loopback: certificates made by
// `hollerith certs`; a three-worker cluster over mTLS that gives the results of `run --local`;
// every RPC refused without the right credential (and nothing ran); certificate rotation on
// SIGHUP; token revocation that also closes the revoked credential's open streams; and a
// coordinator that will not listen beyond loopback in plaintext unless told to.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/pki/pki.h"
#include "hollerith.grpc.pb.h"
#include "proto/rpc_auth.h"
#include "proto/rpc_credentials.h"
#include "tests/support/cluster.h"
#include "tests/support/every_rpc.h"
#include "tests/support/http_get.h"

namespace hollerith::testing {
namespace {

using std::chrono::steady_clock;
using v1::Coordinator;

CommandResult Hollerith(const std::vector<std::string>& args,
                        const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {HOLLERITH_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, std::chrono::seconds(60), env);
}

// A cluster CA in `dir` and, with `hollerith certs issue`, the coordinator's certificate for
// 127.0.0.1, one per worker and the client's: the layout ClusterTls expects.
void MakeCerts(const std::string& dir, const std::vector<std::string>& workers) {
  auto init = Hollerith({"certs", "init", dir});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto coord = Hollerith({"certs", "issue", "coordinator", "--role", "coordinator", "--host",
                          "127.0.0.1", "--host", "localhost", "--dir", dir});
  ASSERT_EQ(coord.exit_code, 0) << coord.err;
  for (const auto& w : workers) {
    auto r = Hollerith({"certs", "issue", w, "--role", "worker", "--dir", dir});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto client = Hollerith({"certs", "issue", "client", "--role", "client", "--dir", dir});
  ASSERT_EQ(client.exit_code, 0) << client.err;
}

// A token file only its owner reads: a worker started as root refuses one that the card user
// (nobody) could read.
std::string WriteSecret(const TempDir& dir, const std::string& name, const std::string& token) {
  const std::string path = dir.Write(name, token);
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path;
}

std::string Read(const std::string& path) {
  auto text = pki::ReadFile(path);
  return text.ok() ? *text : "";
}

// Channel credentials from files as they are, unchecked (the CLI would refuse some of them).
std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(const std::string& ca,
                                                         const std::string& cert_stem) {
  rpc::TlsMaterial m{Read(ca), cert_stem.empty() ? "" : Read(cert_stem + ".crt"),
                     cert_stem.empty() ? "" : Read(cert_stem + ".key")};
  return rpc::ChannelCredentials(&m);
}

// One way of calling: which credentials, which RPCs, and the status each must get.
struct Caller {
  std::string what;
  std::shared_ptr<grpc::ChannelCredentials> channel;
  std::string token;                // attached as the bearer token, if any
  std::vector<Role> refused_roles;  // RPCs needing these roles are called
  grpc::StatusCode expected;
};

void ExpectRefused(const std::string& address, const Caller& caller, const std::string& marker) {
  auto stub = Coordinator::NewStub(rpc::MakeChannel(address, caller.channel));
  int called = 0;
  for (const auto& call : EveryRpc(marker)) {
    if (std::find(caller.refused_roles.begin(), caller.refused_roles.end(), call.role) ==
        caller.refused_roles.end()) {
      continue;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    rpc::AttachBearer(ctx, caller.token);
    grpc::Status s = call.invoke(*stub, ctx);
    EXPECT_EQ(s.error_code(), caller.expected)
        << caller.what << ", " << call.name << ": " << s.error_message();
    EXPECT_EQ(s.error_message().find(caller.token.empty() ? "\x01" : caller.token),
              std::string::npos)
        << "a credential never appears in an error";
    ++called;
  }
  EXPECT_GT(called, 0) << caller.what;
}

const std::vector<Role> kAllRoles = {Role::kWorker, Role::kClient};

// The witness that the cluster did run jobs while refusing the intruders: a legitimate job. Its
// card writes into a directory the card user may write (cards run as nobody under root).
void ExpectLegitimateJobRuns(const TestCluster& cluster) {
  const std::string spec = cluster.data_dir() + "/legit.yaml";
  const std::string witness = cluster.SharedDir("legit") + "/legit-ran";
  std::ofstream(spec) << "name: legit\nstacks:\n  A:\n    cards:\n      - {id: a, run: touch "
                      << witness << "}\n";
  auto r = cluster.Cli({"submit", spec, "--wait"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(witness));
  auto list = cluster.Cli({"status"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.find("sneaky"), std::string::npos) << list.out;
}

// A card whose output outgrows the result document (64 KiB): `hollerith logs` then reads the
// full output that the worker uploaded after the card (UploadLog, with the worker's credential).
void ExpectFullLogUploaded(
    const std::string& spec_path,
    const std::function<CommandResult(const std::vector<std::string>&)>& cli) {
  std::ofstream(spec_path) << "name: loud\nstacks:\n  A:\n    cards:\n"
                              "      - {id: out, run: seq 1 30000}\n";
  auto run = cli({"submit", spec_path, "--wait"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string expected;
  for (int i = 1; i <= 30000; ++i) expected += std::to_string(i) + "\n";
  auto logs = cli({"logs", "loud", "A.out"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out.size(), expected.size());
  EXPECT_TRUE(logs.out == expected);
}

TEST(MutualTls, ThreeWorkersOverTlsGiveTheResultsOfALocalRun) {
  TempDir certs;
  ASSERT_NO_FATAL_FAILURE(MakeCerts(certs.path(), {"w1", "w2", "w3"}));
  TestCluster cluster({{"w1", ""}, {"w2", ""}, {"w3", ""}}, ClusterTls{certs.path()});
  // Files between stacks pinned to three different workers: every artifact crosses the network.
  const std::string spec = cluster.data_dir() + "/files.yaml";
  std::ofstream(spec) << R"yaml(name: files
stacks:
  A:
    node: w1
    cards:
      - id: write
        run: [sh, -c, "printf 'alpha\\nbeta\\ngamma\\n' > words.txt"]
        outputs: [words.txt]
  B:
    node: w2
    cards:
      - id: count
        inputs: [A.write:words.txt]
        run: sh -c 'wc -l < words.txt > count.txt'
        outputs: [count.txt]
  C:
    node: w3
    cards:
      - id: report
        after: [B.count]
        inputs: [A.write:words.txt, B.count:count.txt]
        run: echo "$(cat count.txt) words; first is $(head -n1 words.txt)"
combine:
  run: sh -c 'cat results/C.report.stdout'
)yaml";
  auto local = RunLocal(spec, {"--json"});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  auto remote = cluster.Cli({"submit", spec, "--wait", "--json"});
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  auto l = nlohmann::json::parse(local.out);
  auto r = nlohmann::json::parse(remote.out);
  for (const auto& [name, card] : l["cards"].items()) {
    EXPECT_EQ(r["cards"][name]["state"], card["state"]) << name;
    EXPECT_EQ(r["cards"][name]["exit_code"], card["exit_code"]) << name;
    EXPECT_EQ(r["cards"][name]["stdout"], card["stdout"]) << name;
    EXPECT_EQ(r["cards"][name]["outputs"], card["outputs"]) << name;
  }
  EXPECT_EQ(r["cards"]["A.write"]["node"], "w1");
  EXPECT_EQ(r["cards"]["B.count"]["node"], "w2");
  EXPECT_EQ(r["cards"]["C.report"]["node"], "w3");
  EXPECT_EQ(r["cards"]["C.report"]["stdout"], "3 words; first is alpha\n");
  ExpectFullLogUploaded(cluster.data_dir() + "/loud.yaml",
                        [&](const std::vector<std::string>& args) { return cluster.Cli(args); });

  // The CLI's flags work as its environment does, and nothing of a key reaches the logs.
  auto flags = Hollerith({"workers", "--coordinator", cluster.address(), "--tls-ca",
                          certs.path() + "/ca.crt", "--tls-cert", certs.path() + "/client.crt",
                          "--tls-key", certs.path() + "/client.key"});
  EXPECT_EQ(flags.exit_code, 0) << flags.err;
  const std::string key = Read(certs.path() + "/w1.key");
  ASSERT_FALSE(key.empty());
  const std::string body = key.substr(key.find('\n') + 1, 40);
  EXPECT_EQ(cluster.WorkerLog("w1").find(body), std::string::npos);
}

TEST(MutualTls, AWorkerCertificateCannotRegisterUnderAnotherName) {
  TempDir certs;
  ASSERT_NO_FATAL_FAILURE(MakeCerts(certs.path(), {"w1", "w2"}));
  TestCluster cluster({{"w1", ""}}, ClusterTls{certs.path()});
  Daemon impostor({HOLLERITH_WORKER_PATH, "--coordinator", cluster.address(), "--name", "w9",
                   "--work-dir", cluster.data_dir() + "/w9", "--tls-ca", certs.path() + "/ca.crt",
                   "--tls-cert", certs.path() + "/w2.crt", "--tls-key", certs.path() + "/w2.key"});
  EXPECT_EQ(impostor.Wait(std::chrono::seconds(20)), 3) << "refused: it exits as rejected";
  EXPECT_TRUE(cluster.WaitForWorkers({"w1"}));
}

TEST(AuthMatrix, EveryRpcRefusedOverTlsWithoutTheRightCertificate) {
  TempDir certs;
  ASSERT_NO_FATAL_FAILURE(MakeCerts(certs.path(), {"w1"}));
  // Another CA's client, and an expired client of the cluster's own CA.
  const std::string other = certs.path() + "/other";
  ASSERT_TRUE(pki::InitCa(other, {}).ok());
  pki::IssueOptions o;
  o.name = "stranger";
  o.role = pki::Role::kClient;
  ASSERT_TRUE(pki::IssueCertificate(other, o).ok());
  o.name = "expired";
  o.not_before_offset = -std::chrono::hours(72);
  o.days = 1;
  ASSERT_TRUE(pki::IssueCertificate(certs.path(), o).ok());

  TestCluster cluster({{"w1", ""}}, ClusterTls{certs.path()});
  // Where a refused submission's card would write, were it run: writable by the card user, so
  // that its absence proves the card never ran.
  const std::string marker = cluster.SharedDir("marks") + "/pwned";
  const std::string ca = certs.path() + "/ca.crt";
  const std::string dir = certs.path() + "/";
  const std::vector<Caller> callers = {
      {"plaintext client", grpc::InsecureChannelCredentials(), "", kAllRoles,
       grpc::StatusCode::UNAVAILABLE},
      {"plaintext client with a token", grpc::InsecureChannelCredentials(), "some-token", kAllRoles,
       grpc::StatusCode::UNAVAILABLE},
      {"TLS without a client certificate", TlsCredentials(ca, ""), "", kAllRoles,
       grpc::StatusCode::UNAVAILABLE},
      {"certificate of another CA", TlsCredentials(ca, other + "/stranger"), "", kAllRoles,
       grpc::StatusCode::UNAVAILABLE},
      {"expired certificate", TlsCredentials(ca, dir + "expired"), "", kAllRoles,
       grpc::StatusCode::UNAVAILABLE},
      {"client certificate on worker RPCs",
       TlsCredentials(ca, dir + "client"),
       "",
       {Role::kWorker},
       grpc::StatusCode::PERMISSION_DENIED},
      {"worker certificate on client RPCs",
       TlsCredentials(ca, dir + "w1"),
       "",
       {Role::kClient},
       grpc::StatusCode::PERMISSION_DENIED},
      {"coordinator certificate as a caller", TlsCredentials(ca, dir + "coordinator"), "",
       kAllRoles, grpc::StatusCode::PERMISSION_DENIED},
  };
  for (const auto& caller : callers) ExpectRefused(cluster.address(), caller, marker);
  ExpectLegitimateJobRuns(cluster);
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a refused submission ran";
  EXPECT_TRUE(cluster.WaitForWorkers({"w1"})) << "no intruder registered as a worker";

  // The CLI says what is wrong with an expired certificate before dialling.
  auto expired = Hollerith({"status", "--coordinator", cluster.address(), "--tls-ca", ca,
                            "--tls-cert", dir + "expired.crt", "--tls-key", dir + "expired.key"});
  EXPECT_EQ(expired.exit_code, 2);
  EXPECT_NE(expired.err.find("expired"), std::string::npos) << expired.err;
}

TEST(AuthMatrix, EveryRpcRefusedWithoutTheRightToken) {
  TempDir tokens;
  const std::string worker_token = tokens.path() + "/worker.token";
  const std::string client_token = tokens.path() + "/client.token";
  WriteSecret(tokens, "worker.token", "worker-secret-0123456789\n");
  WriteSecret(tokens, "client.token", "client-secret-0123456789\n");
  // The cluster's own token (both roles) is for its harness; the matrix uses the scoped ones.
  TestCluster cluster({{"w1", ""}},
                      {"--worker-token-file", worker_token, "--client-token-file", client_token,
                       "--token-file", WriteSecret(tokens, "both", "both-0123\n")});
  // Where a refused submission's card would write, were it run: writable by the card user, so
  // that its absence proves the card never ran.
  const std::string marker = cluster.SharedDir("marks") + "/pwned";
  auto plain = grpc::InsecureChannelCredentials();
  const std::vector<Caller> callers = {
      {"no credential", plain, "", kAllRoles, grpc::StatusCode::UNAUTHENTICATED},
      {"wrong token", plain, "not-the-token", kAllRoles, grpc::StatusCode::UNAUTHENTICATED},
      {"worker token on client RPCs",
       plain,
       "worker-secret-0123456789",
       {Role::kClient},
       grpc::StatusCode::PERMISSION_DENIED},
      {"client token on worker RPCs",
       plain,
       "client-secret-0123456789",
       {Role::kWorker},
       grpc::StatusCode::PERMISSION_DENIED},
  };
  for (const auto& caller : callers) ExpectRefused(cluster.address(), caller, marker);
  ExpectLegitimateJobRuns(cluster);
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a refused submission ran";
  EXPECT_TRUE(cluster.WaitForWorkers({"w1"})) << "no intruder registered as a worker";

  // A plaintext client cannot talk to a TLS coordinator either way round: covered above; and the
  // CLI reports a wrong role in words.
  auto denied = RunCommand(
      {HOLLERITH_CLI_PATH, "status"}, std::chrono::seconds(30),
      {"HOLLERITH_COORDINATOR=" + cluster.address(), "HOLLERITH_TOKEN_FILE=" + worker_token});
  EXPECT_EQ(denied.exit_code, 2);
  EXPECT_NE(denied.err.find("needs a client credential"), std::string::npos) << denied.err;
  EXPECT_EQ(Read(cluster.coordinator().stderr_path()).find("secret-0123456789"), std::string::npos)
      << "no token in the coordinator's log";
}

// GET PATH of the coordinator's web view (`url`: http://HOST:PORT/) with a bearer token; the
// status (0: no answer).
int WebGet(const std::string& url, const std::string& path, const std::string& token) {
  const std::string rest = url.substr(url.find("//") + 2);
  const size_t colon = rest.rfind(':');
  httplib::Client http(rest.substr(0, colon), std::stoi(rest.substr(colon + 1)));
  http.set_connection_timeout(5, 0);
  http.set_read_timeout(10, 0);
  auto r = http.Get(path, httplib::Headers{{"Authorization", "Bearer " + token}});
  return r ? r->status : 0;
}

// A GET of the web view that streams (server-sent events) on a thread of its own, with a bearer
// token; what arrived so far can be waited for. The stream ends by itself within the web view's
// keep-alive interval once the test is done with it.
class WebStream {
 public:
  WebStream(const std::string& url, const std::string& path, const std::string& token) {
    const std::string rest = url.substr(url.find("//") + 2);
    const size_t colon = rest.rfind(':');
    thread_ = std::thread([this, host = rest.substr(0, colon),
                           port = std::stoi(rest.substr(colon + 1)), path, token] {
      httplib::Client http(host, port);
      http.set_connection_timeout(5, 0);
      http.set_read_timeout(30, 0);
      http.Get(path, httplib::Headers{{"Authorization", "Bearer " + token}},
               [this](const char* data, size_t n) {
                 std::lock_guard lock(mu_);
                 text_.append(data, n);
                 changed_.notify_all();
                 return !stop_;
               });
      std::lock_guard lock(mu_);
      ended_ = true;
      changed_.notify_all();
    });
  }
  ~WebStream() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    thread_.join();
  }
  // True once the stream's text holds `needle` (within 20 s).
  bool WaitFor(const std::string& needle) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(20),
                             [&] { return text_.find(needle) != std::string::npos; });
  }
  // True once the server ended the stream (within 20 s).
  bool WaitForEnd() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [&] { return ended_; });
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::string text_;
  bool stop_ = false;
  bool ended_ = false;
  std::thread thread_;
};

// Metrics scrapes and the web view: with scoped token files a client token opens them, a worker
// token does not; with TLS the coordinator makes DATA_DIR/token for them (gRPC from the network
// still needs certificates).
TEST(Metrics, ScrapesTakeAClientTokenWithScopedTokensAndWithTls) {
  TempDir tokens;
  const std::string worker_token = WriteSecret(tokens, "worker.token", "worker-metrics-token\n");
  const std::string client_token = WriteSecret(tokens, "client.token", "client-metrics-token\n");
  {
    TestCluster cluster({}, {"--worker-token-file", worker_token, "--client-token-file",
                             client_token, "--token-file", WriteSecret(tokens, "both", "both-0\n"),
                             "--metrics-listen", "127.0.0.1:0"});
    const std::string url = cluster.CoordinatorLine("metrics on ");
    ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
    EXPECT_EQ(HttpGet(url, "client-metrics-token").status, 200);
    EXPECT_EQ(HttpGet(url, "both-0").status, 200);
    EXPECT_EQ(HttpGet(url, "worker-metrics-token").status, 401) << "a worker token cannot scrape";
    EXPECT_EQ(HttpGet(url).status, 401);
    // The web view logs in with the client token (and calls the service with it).
    EXPECT_EQ(WebGet(cluster.web_url(), "/api/jobs", "client-metrics-token"), 200);
    EXPECT_EQ(WebGet(cluster.web_url(), "/api/jobs", "worker-metrics-token"), 401);
    // Nor does it get the CSRF token that actions (cancel) need: a worker credential has none.
    EXPECT_EQ(WebGet(cluster.web_url(), "/api/session", "client-metrics-token"), 200);
    EXPECT_EQ(WebGet(cluster.web_url(), "/api/session", "worker-metrics-token"), 401);
  }
  TempDir certs;
  ASSERT_NO_FATAL_FAILURE(MakeCerts(certs.path(), {}));
  TestCluster cluster({}, ClusterTls{certs.path()}, {"--metrics-listen", "127.0.0.1:0"});
  const std::string token_file = cluster.CoordinatorLine("http token file: ");
  const std::string url = cluster.CoordinatorLine("metrics on ");
  ASSERT_FALSE(token_file.empty());
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  std::string token = Read(token_file);
  token = token.substr(0, token.find('\n'));
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(HttpGet(url, token).status, 200);
  EXPECT_EQ(HttpGet(url, "not-the-token").status, 401);
  // The web view works under TLS: its in-process calls carry the token, not a certificate.
  EXPECT_EQ(WebGet(cluster.web_url(), "/api/jobs", token), 200);
  EXPECT_EQ(WebGet(cluster.web_url(), "/api/jobs", "not-the-token"), 401);
  // The scrape token is no gRPC credential under TLS.
  auto stub = Coordinator::NewStub(rpc::MakeChannel(
      cluster.address(), TlsCredentials(certs.path() + "/ca.crt", certs.path() + "/coordinator")));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  rpc::AttachBearer(ctx, token);
  v1::ListJobsRequest list;
  v1::ListJobsResponse resp;
  EXPECT_EQ(stub->ListJobs(&ctx, list, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// Waits until `attempt` succeeds (a fresh connection each time), up to `timeout`.
bool SucceedsWithin(const std::function<bool()>& attempt, std::chrono::milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (steady_clock::now() < deadline) {
    if (attempt()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(MutualTls, SighupRotatesToANewCaAndCertificateWithoutARestart) {
  TempDir certs;
  ASSERT_NO_FATAL_FAILURE(MakeCerts(certs.path(), {"w1"}));
  TempDir next;
  ASSERT_NO_FATAL_FAILURE(MakeCerts(next.path(), {}));
  TestCluster cluster({{"w1", ""}}, ClusterTls{certs.path()});
  const pid_t pid = cluster.coordinator().pid();
  std::filesystem::copy_file(certs.path() + "/ca.crt", certs.path() + "/old-ca.crt");
  auto old_client = [&] {
    return Hollerith({"workers", "--coordinator", cluster.address(), "--tls-ca",
                      certs.path() + "/old-ca.crt", "--tls-cert", certs.path() + "/client.crt",
                      "--tls-key", certs.path() + "/client.key"});
  };
  auto new_client = [&] {
    return Hollerith({"workers", "--coordinator", cluster.address(), "--tls-ca",
                      next.path() + "/ca.crt", "--tls-cert", next.path() + "/client.crt",
                      "--tls-key", next.path() + "/client.key"});
  };
  ASSERT_EQ(old_client().exit_code, 0);
  EXPECT_NE(new_client().exit_code, 0) << "the new CA is not trusted yet";

  // Rotate the files the coordinator was started with to the new CA's, and tell it.
  for (const char* name : {"coordinator.crt", "coordinator.key", "ca.crt"}) {
    std::filesystem::copy_file(next.path() + "/" + name, certs.path() + "/" + name,
                               std::filesystem::copy_options::overwrite_existing);
  }
  cluster.coordinator().Signal(SIGHUP);
  ASSERT_TRUE(cluster.coordinator().WaitForLogLine([](const std::string& line) {
    return line.find("SIGHUP: reloaded TLS") != std::string::npos;
  }));
  EXPECT_TRUE(SucceedsWithin([&] { return new_client().exit_code == 0; }, std::chrono::seconds(10)))
      << "a new connection with the new CA's client certificate";
  EXPECT_NE(old_client().exit_code, 0) << "the old CA no longer opens new connections";
  EXPECT_EQ(cluster.coordinator().pid(), pid) << "no restart";
  // The worker's connection from before the rotation is still up: no downtime for it.
  auto listed = new_client();
  EXPECT_NE(listed.out.find("w1"), std::string::npos) << listed.out << listed.err;

  // A broken bundle keeps the current material in service.
  std::ofstream(certs.path() + "/ca.crt") << "not a certificate\n";
  cluster.coordinator().Signal(SIGHUP);
  ASSERT_TRUE(cluster.coordinator().WaitForLogLine([](const std::string& line) {
    return line.find("SIGHUP: kept the old TLS material") != std::string::npos;
  }));
  EXPECT_EQ(new_client().exit_code, 0);
}

TEST(Tokens, RevokedTokensLoseNewCallsAndTheirOpenStreams) {
  TempDir dir;
  const std::string worker_token = WriteSecret(dir, "worker.token", "worker-old-token\n");
  const std::string client_token = WriteSecret(dir, "client.token", "client-old-token\n");
  Daemon coordinator({HOLLERITH_COORDINATOR_PATH, "--listen", "127.0.0.1:0", "--data-dir",
                      dir.path() + "/coordinator", "--http-listen", "127.0.0.1:0", "--heartbeat-ms",
                      "200", "--worker-token-file", worker_token, "--client-token-file",
                      client_token});
  const std::string address = coordinator.WaitForLine("listening on ");
  ASSERT_FALSE(address.empty());
  Daemon worker({HOLLERITH_WORKER_PATH, "--coordinator", address, "--name", "w1", "--work-dir",
                 dir.path() + "/w1", "--token-file", worker_token});
  ASSERT_TRUE(coordinator.WaitForLogLine([](const std::string& line) {
    return line.find("worker w1 connected") != std::string::npos;
  }));

  // The worker token moves logs: a full output uploaded and read back with the client token.
  ExpectFullLogUploaded(dir.path() + "/loud.yaml", [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {HOLLERITH_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, std::chrono::seconds(60),
                      {"HOLLERITH_COORDINATOR=" + address, "HOLLERITH_TOKEN_FILE=" + client_token});
  });

  // A job that runs for a while, and a client watching it on an open stream.
  const std::string spec = dir.Write("long.yaml",
                                     "name: long\nstacks:\n  A:\n    cards:\n      - {id: a, "
                                     "builtin: {sleep: 60s}}\n");
  const std::vector<std::string> client_env = {"HOLLERITH_COORDINATOR=" + address,
                                               "HOLLERITH_TOKEN_FILE=" + client_token};
  auto submitted =
      RunCommand({HOLLERITH_CLI_PATH, "submit", spec}, std::chrono::seconds(30), client_env);
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const std::string job = submitted.out.substr(0, submitted.out.find('\n'));
  auto stub = Coordinator::NewStub(rpc::MakeChannel(address));
  grpc::ClientContext watch_ctx;
  rpc::AttachBearer(watch_ctx, "client-old-token");
  v1::WatchJobRequest req;
  req.set_job(job);
  auto watch = stub->WatchJob(&watch_ctx, req);
  v1::JobEventBatch batch;
  ASSERT_TRUE(watch->Read(&batch)) << "the watch stream is open";
  // The web view, with the same client token, follows the job too.
  const std::string web = coordinator.WaitForLine("web view: ");
  ASSERT_FALSE(web.empty());
  EXPECT_EQ(WebGet(web, "/api/jobs", "client-old-token"), 200);
  EXPECT_EQ(WebGet(web, "/api/jobs", "worker-old-token"), 401) << "a worker token is no login";
  WebStream web_watch(web, "/api/jobs/" + job + "/events", "client-old-token");
  ASSERT_TRUE(web_watch.WaitFor("id: 1")) << web_watch.text();

  // Revoke both tokens: rewrite the files, SIGHUP. Three streams rested on them: the worker's
  // session, the client's watch and the web view's.
  std::ofstream(worker_token) << "worker-new-token\n";
  std::ofstream(client_token) << "client-new-token\n";
  coordinator.Signal(SIGHUP);
  ASSERT_TRUE(coordinator.WaitForLogLine([](const std::string& line) {
    return line.find("closed 3 stream(s) of revoked tokens") != std::string::npos;
  }));
  while (watch->Read(&batch)) {
  }
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(web_watch.WaitFor("event: failed")) << web_watch.text();
  EXPECT_TRUE(web_watch.WaitForEnd()) << "the web view ended the revoked token's event stream";
  EXPECT_EQ(WebGet(web, "/api/jobs", "client-old-token"), 401) << "revoked in the web view too";
  EXPECT_EQ(WebGet(web, "/api/jobs", "client-new-token"), 200) << "the new token logs in";
  // The worker's session was closed; it redials with its old token, is refused, and exits.
  EXPECT_EQ(worker.Wait(std::chrono::seconds(20)), 3);

  for (const auto& [token, code] :
       {std::pair{"client-old-token", grpc::StatusCode::UNAUTHENTICATED},
        std::pair{"client-new-token", grpc::StatusCode::OK}}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    rpc::AttachBearer(ctx, token);
    v1::ListJobsRequest list;
    v1::ListJobsResponse resp;
    EXPECT_EQ(stub->ListJobs(&ctx, list, &resp).error_code(), code) << token;
  }
  coordinator.Signal(SIGTERM);
  EXPECT_EQ(coordinator.Wait(), 0);
}

TEST(Listen, BeyondLoopbackWithoutTlsIsRefusedUnlessInsecurePlaintextIsGiven) {
  TempDir dir;
  // Refused before it binds anything.
  auto refused = RunCommand({HOLLERITH_COORDINATOR_PATH, "--listen", "0.0.0.0:0", "--http-listen",
                             "127.0.0.1:0", "--data-dir", dir.path() + "/refused"},
                            std::chrono::seconds(20));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("without TLS"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--insecure-plaintext"), std::string::npos) << refused.err;
  // The web view and the metrics endpoint are plain HTTP: beyond loopback they are refused too,
  // with gRPC on loopback (or under TLS).
  for (const char* flag : {"--http-listen", "--metrics-listen"}) {
    auto http = RunCommand({HOLLERITH_COORDINATOR_PATH, "--listen", "127.0.0.1:0", flag,
                            "0.0.0.0:0", "--data-dir", dir.path() + "/refused-http"},
                           std::chrono::seconds(20));
    EXPECT_EQ(http.exit_code, 2) << flag;
    EXPECT_NE(http.err.find(std::string("refusing ") + flag + " 0.0.0.0:0: it is plain HTTP"),
              std::string::npos)
        << http.err;
    EXPECT_NE(http.err.find("--insecure-plaintext"), std::string::npos) << http.err;
  }

  // Allowed with --insecure-plaintext, with warnings; in a network namespace of its own, so that
  // the test listens on no real interface.
  Daemon coordinator({"unshare", "--net", "sh", "-c",
                      "ip link set lo up && exec \"$0\" --listen 0.0.0.0:0 --http-listen 0.0.0.0:0 "
                      "--insecure-plaintext "
                      "--data-dir \"$1\"",
                      HOLLERITH_COORDINATOR_PATH, dir.path() + "/exposed"});
  const std::string listening = coordinator.WaitForLine("listening on ");
  ASSERT_FALSE(listening.empty()) << "could not start in a network namespace";
  EXPECT_TRUE(coordinator.WaitForLogLine([](const std::string& line) {
    return line.find("--http-listen 0.0.0.0:0 serves plain HTTP beyond loopback") !=
           std::string::npos;
  }));
  EXPECT_TRUE(coordinator.WaitForLogLine([](const std::string& line) {
    return line.find("--insecure-plaintext: listening on 0.0.0.0") != std::string::npos;
  }));
  const std::string port = listening.substr(listening.rfind(':') + 1);
  auto workers = RunCommand(
      {"nsenter", "-t", std::to_string(coordinator.pid()), "-n", HOLLERITH_CLI_PATH, "workers",
       "--coordinator", "127.0.0.1:" + port, "--token-file", dir.path() + "/exposed/token"},
      std::chrono::seconds(30));
  EXPECT_EQ(workers.exit_code, 0) << workers.err;
  EXPECT_NE(workers.err.find("without TLS"), std::string::npos) << workers.err;
  coordinator.Signal(SIGTERM);
  EXPECT_EQ(coordinator.Wait(), 0);

  // Loopback needs no flag and shows no warning (the default cluster of `hollerith up`).
  TestCluster local({});
  auto quiet = local.Cli({"workers"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("without TLS"), std::string::npos) << quiet.err;
}

}  // namespace
}  // namespace hollerith::testing
