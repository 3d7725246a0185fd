#include <cstdio>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/display/tables.h"

namespace hollerith::cli {

void AddWorkersCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("workers", "List the workers connected to the coordinator");
  auto cluster = std::make_shared<ClusterFlags>();
  AddClusterFlags(cmd, *cluster);
  cmd->callback([cluster, &exit_code] {
    auto client = ConnectClient(*cluster);
    if (!client) {
      exit_code = 2;
      return;
    }
    auto workers = client->ListWorkers();
    if (!workers.ok()) {
      std::fprintf(stderr, "%s\n", workers.message().c_str());
      exit_code = 2;
      return;
    }
    PrintWorkersTable(stdout, *workers);
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
