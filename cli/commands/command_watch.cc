#include <cstdio>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/display/job_follow.h"
#include "cli/display/tables.h"

namespace hollerith::cli {

void AddWatchCommand(CLI::App& app, int& exit_code) {
  AddJobCommand(app, "watch",
                "Show a job's live progress, then its cards (exit 0 succeeded, 1 otherwise)",
                exit_code, [](Client& client, const std::string& job) {
                  auto status = FollowJob(client, job, {});
                  if (!status.ok()) {
                    std::fprintf(stderr, "%s\n", status.message().c_str());
                    return 2;
                  }
                  PrintCardTable(stdout, *status);
                  std::printf("%s\n", JobSummaryLine(*status).c_str());
                  return ExitCodeForJob(*status);
                });
}

}  // namespace hollerith::cli
