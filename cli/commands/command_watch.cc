#include <cstdio>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/display/job_follow.h"
#include "cli/display/tables.h"

namespace hollerith::cli {

void AddWatchCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "watch", "Show a job's live progress, then its cards (exit 0 succeeded, 1 otherwise)");
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
    auto status = FollowJob(*client, *job, {});
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.message().c_str());
      exit_code = 2;
      return;
    }
    PrintCardTable(stdout, *status);
    std::printf("%s\n", JobSummaryLine(*status).c_str());
    exit_code = ExitCodeForJob(*status);
  });
}

}  // namespace hollerith::cli
