#include <cstdio>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"

namespace hollerith::cli {

void AddDeleteCommand(CLI::App& app, int& exit_code) {
  AddJobCommand(app, "delete",
                "Remove a finished job (its results, logs and trace) now; finished jobs are "
                "otherwise kept for the coordinator's --retention (default 7 days)",
                exit_code, [](Client& client, const std::string& job) {
                  auto deleted = client.Delete(job);
                  if (!deleted.ok()) {
                    std::fprintf(stderr, "%s\n", deleted.message().c_str());
                    return 2;
                  }
                  std::printf("job %s deleted\n", deleted->c_str());
                  return 0;
                });
}

}  // namespace hollerith::cli
