#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/display/tables.h"
#include "common/base/json_text.h"

namespace hollerith::cli {
namespace {

struct WorkersFlags {
  ClusterFlags cluster;
  bool json = false;
};

nlohmann::ordered_json WorkersJson(const std::vector<v1::WorkerInfo>& workers,
                                   const std::string& coordinator_version) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& w : workers) {
    nlohmann::ordered_json labels = nlohmann::ordered_json::object();
    for (const auto& kv : w.labels()) labels[kv.key()] = kv.value();
    // The stacks placed on it of the jobs this credential may see, as JOB_NAME/STACK (JOB_ID).
    nlohmann::ordered_json placed = nlohmann::ordered_json::array();
    for (const auto& p : w.placed_stacks()) {
      placed.push_back({{"job_id", p.job_id()}, {"job_name", p.job_name()}, {"stack", p.stack()}});
    }
    list.push_back({{"name", w.name()},
                    {"labels", labels},
                    {"slots", w.slots()},
                    {"stacks", w.stacks()},
                    {"epoch", w.epoch()},
                    {"version", w.version()},
                    {"peer", w.peer()},
                    {"connected_wall_us", w.connected_wall_us()},
                    {"placed_stacks", placed}});
  }
  return {{"coordinator_version", coordinator_version}, {"workers", list}};
}

}  // namespace

void AddWorkersCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("workers", "List the workers connected to the coordinator");
  auto f = std::make_shared<WorkersFlags>();
  cmd->add_flag("--json", f->json,
                "Print {coordinator_version, workers: [{name, labels, slots, stacks, epoch, "
                "version, peer}], insecure_plaintext} as JSON");
  AddClusterFlags(cmd, f->cluster);
  cmd->callback([f, &exit_code] {
    auto client = ConnectClient(f->cluster);
    if (!client) {
      exit_code = 2;
      return;
    }
    std::string coordinator_version;
    bool insecure = false;
    auto workers = client->ListWorkers(&coordinator_version, &insecure);
    if (!workers.ok()) {
      std::fprintf(stderr, "%s\n", workers.message().c_str());
      exit_code = 2;
      return;
    }
    if (f->json) {
      auto doc = WorkersJson(*workers, coordinator_version);
      doc["insecure_plaintext"] = insecure;
      std::cout << JsonText(doc, 2) << std::endl;
    } else {
      PrintWorkersTable(stdout, *workers);
      std::fflush(stdout);
    }
    if (insecure) {
      std::fprintf(stderr,
                   "warning: the coordinator listens beyond loopback without TLS "
                   "(--insecure-plaintext): tokens and jobs cross the network unencrypted\n");
    }
    for (const auto& line : VersionMismatchWarnings(*workers, coordinator_version)) {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
