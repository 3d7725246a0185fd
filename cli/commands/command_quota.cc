#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <iostream>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/display/tables.h"

namespace hollerith::cli {
namespace {

struct QuotaFlags {
  ClusterFlags cluster;
  bool json = false;
};

}  // namespace

void AddQuotaCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "quota",
      "Show each tenant's weight, fair share, use and quota (the coordinator's --tenants)");
  cmd->footer(
      "SHARE is the tenant's dominant share of the cluster's resources in use (the largest of "
      "its cpu, memory and named resources as a part of the cluster's), divided by its weight: "
      "workers start the cards of the tenant with the smallest share first. PLACED is what its "
      "stacks placed on workers ask for (what quotas limit); WAITING, its stacks not placed "
      "(at its quota, or no worker can hold them: `hollerith status JOB` says which).");
  auto f = std::make_shared<QuotaFlags>();
  cmd->add_flag("--json", f->json, "Print the tenants as JSON (ListTenantsResponse)");
  AddClusterFlags(cmd, f->cluster);
  cmd->callback([f, &exit_code] {
    auto client = ConnectClient(f->cluster);
    if (!client) {
      exit_code = 2;
      return;
    }
    auto tenants = client->ListTenants();
    if (!tenants.ok()) {
      std::fprintf(stderr, "%s\n", tenants.message().c_str());
      exit_code = 2;
      return;
    }
    if (f->json) {
      std::string json;
      google::protobuf::util::JsonPrintOptions options;
      options.add_whitespace = true;
      options.always_print_primitive_fields = true;
      tenants->clear_lamport();
      (void)google::protobuf::util::MessageToJsonString(*tenants, &json, options);
      std::cout << json << std::endl;
    } else {
      PrintTenantsTable(stdout, *tenants);
      std::fflush(stdout);
    }
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
