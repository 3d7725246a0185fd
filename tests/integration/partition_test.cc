// A network partition between a worker and the coordinator: the worker runs in a network
// namespace this test creates (a veth pair to the host side, where the coordinator listens), the
// link goes down for longer than the lease, then up again. The job must complete with the results
// of a local run, its trace must verify, and no dependency may be released twice. Needs root (to
// create the namespace); skips, saying so, only where namespaces cannot be created.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cluster.h"
#include "tests/support/fault_jobs.h"

namespace hollerith::testing {
namespace {

// A network namespace joined to the host by a veth pair; removed (with the pair) on destruction.
class Netns {
 public:
  Netns() {
    const std::string id = std::to_string(::getpid() % 100000);
    ns_ = "hol-part-" + id;
    host_if_ = "hph" + id;
    ns_if_ = "hpn" + id;
    const int subnet = static_cast<int>(::getpid() % 250) + 1;
    host_ip_ = "10.213." + std::to_string(subnet) + ".1";
    ns_ip_ = "10.213." + std::to_string(subnet) + ".2";
    for (const std::string& cmd :
         {"ip netns add " + ns_, "ip link add " + host_if_ + " type veth peer name " + ns_if_,
          "ip link set " + ns_if_ + " netns " + ns_,
          "ip addr add " + host_ip_ + "/30 dev " + host_if_, "ip link set " + host_if_ + " up",
          "ip netns exec " + ns_ + " ip addr add " + ns_ip_ + "/30 dev " + ns_if_,
          "ip netns exec " + ns_ + " ip link set " + ns_if_ + " up",
          "ip netns exec " + ns_ + " ip link set lo up"}) {
      auto r = RunCommand({"/bin/sh", "-c", cmd + " 2>&1"}, std::chrono::seconds(10));
      if (r.exit_code != 0) {
        why_ = "`" + cmd + "`: " + r.out;
        return;
      }
    }
    ok_ = true;
  }
  ~Netns() {
    RunCommand(
        {"/bin/sh", "-c",
         "ip link del " + host_if_ + " 2>/dev/null; ip netns del " + ns_ + " 2>/dev/null; true"},
        std::chrono::seconds(10));
  }
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  const std::string& host_ip() const { return host_ip_; }
  std::vector<std::string> wrapper() const { return {"ip", "netns", "exec", ns_}; }
  bool SetLink(bool up) {
    return RunCommand({"ip", "link", "set", host_if_, up ? "up" : "down"}).exit_code == 0;
  }

 private:
  bool ok_ = false;
  std::string why_, ns_, host_if_, ns_if_, host_ip_, ns_ip_;
};

TEST(Partition, AWorkerCutOffPastItsLeaseNeverBreaksTheJob) {
  Netns net;
  if (!net.ok()) GTEST_SKIP() << "network namespaces cannot be created here: " << net.why();
  // The coordinator listens on the veth's address (not loopback) in plaintext: a private link of
  // this test, so --insecure-plaintext.
  TestCluster cluster({{"h", ""}, {"p", "", net.wrapper()}},
                      {"--missed-heartbeats", "3", "--insecure-plaintext"}, net.host_ip() + ":0");
  const std::string spec = R"(name: partitioned
stacks:
  L:
    node: p
    cards:
      - {id: start, run: echo start}
      - {id: hold, run: sh -c 'sleep 1; echo held'}
      - {id: end, run: echo end}
  M:
    node: h
    cards:
      - {id: before, run: echo before}
      - {id: after, after: [L.end], run: echo after}
)";
  std::string spec_path;
  const std::string local = LocalResults(cluster.data_dir(), "partitioned", spec, &spec_path);
  auto submitted = cluster.Cli({"submit", spec_path});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  ASSERT_EQ(cluster.Cli({"logs", "partitioned", "L.start", "-f"}).exit_code, 0);
  ASSERT_TRUE(net.SetLink(false));
  // 3 missed heartbeats of 200 ms: the coordinator drops p; L waits for it (pinned).
  ASSERT_TRUE(cluster.WaitForWorkers({"h"}, std::chrono::seconds(20)));
  ASSERT_TRUE(net.SetLink(true));
  ASSERT_TRUE(cluster.WaitForWorkers({"h", "p"}, std::chrono::seconds(30)))
      << "p reconnects once the link is back";
  auto watched = cluster.Cli({"watch", "partitioned"}, std::chrono::seconds(60));
  ASSERT_FALSE(watched.timed_out);
  auto status = cluster.Cli({"status", "partitioned", "--json"});
  for (const auto& p : CompareResults(local, status.out)) ADD_FAILURE() << p;
  for (const auto& p : CheckTrace(cluster, "partitioned", spec_path)) ADD_FAILURE() << p;
  auto doc = nlohmann::json::parse(status.out);
  EXPECT_GE(doc["cards"]["L.start"]["attempts"].get<int>(), 2) << "L ran again after the cut";
}

}  // namespace
}  // namespace hollerith::testing
