#include <cstdio>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"

namespace hollerith::cli {

void AddCancelCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("cancel", "Cancel a job: stop its running cards, start no more");
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
    auto state = client->Cancel(*job);
    if (!state.ok()) {
      std::fprintf(stderr, "%s\n", state.message().c_str());
      exit_code = 2;
      return;
    }
    std::printf("job %s: %s\n", job->c_str(), state->c_str());
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
