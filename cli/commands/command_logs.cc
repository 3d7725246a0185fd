#include <cstdio>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"

namespace hollerith::cli {

void AddLogsCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "logs", "Print a card's stdout (its stderr goes to stderr); -f waits for the card");
  auto cluster = std::make_shared<ClusterFlags>();
  auto job = std::make_shared<std::string>();
  auto card = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  cmd->add_option("JOB", *job, "Job id, or a job name unique among kept jobs")->required();
  cmd->add_option("CARD", *card, "STACK.CARD (or combine)")->required();
  cmd->add_flag("-f,--follow", *follow, "Wait for the card if it has not finished");
  AddClusterFlags(cmd, *cluster);
  cmd->callback([=, &exit_code] {
    auto client = ConnectClient(*cluster);
    if (!client) {
      exit_code = 2;
      return;
    }
    Status s = client->ReadLog(*job, *card, *follow,
                               [](const std::string& stream, const std::string& data) {
                                 std::FILE* out = stream == "stderr" ? stderr : stdout;
                                 std::fwrite(data.data(), 1, data.size(), out);
                                 std::fflush(out);
                               });
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      exit_code = 2;
      return;
    }
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
