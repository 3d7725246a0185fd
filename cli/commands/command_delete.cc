#include <cstdio>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"

namespace hollerith::cli {

void AddDeleteCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "delete",
      "Remove a finished job (its results, logs and trace) now; finished jobs are otherwise kept "
      "for the coordinator's --retention (default 7 days)");
  auto cluster = std::make_shared<ClusterFlags>();
  auto job = std::make_shared<std::string>();
  cmd->add_option("JOB", *job, "Job id, or a job name unique among kept jobs")->required();
  AddClusterFlags(cmd, *cluster);
  cmd->callback([cluster, job, &exit_code] {
    auto client = ConnectClient(*cluster);
    if (!client) {
      exit_code = 2;
      return;
    }
    auto deleted = client->Delete(*job);
    if (!deleted.ok()) {
      std::fprintf(stderr, "%s\n", deleted.message().c_str());
      exit_code = 2;
      return;
    }
    std::printf("job %s deleted\n", deleted->c_str());
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
