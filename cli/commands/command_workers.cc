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
    std::string coordinator_version;
    auto workers = client->ListWorkers(&coordinator_version);
    if (!workers.ok()) {
      std::fprintf(stderr, "%s\n", workers.message().c_str());
      exit_code = 2;
      return;
    }
    PrintWorkersTable(stdout, *workers);
    std::fflush(stdout);
    for (const auto& line : VersionMismatchWarnings(*workers, coordinator_version)) {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
