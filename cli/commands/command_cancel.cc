#include <cstdio>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"

namespace hollerith::cli {

void AddCancelCommand(CLI::App& app, int& exit_code) {
  AddJobCommand(app, "cancel", "Cancel a job: stop its running cards, start no more", exit_code,
                [](Client& client, const std::string& job) {
                  auto state = client.Cancel(job);
                  if (!state.ok()) {
                    std::fprintf(stderr, "%s\n", state.message().c_str());
                    return 2;
                  }
                  std::printf("job %s: %s\n", job.c_str(), state->c_str());
                  return 0;
                });
}

}  // namespace hollerith::cli
