#include <cstdio>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/commands/text_file.h"

namespace hollerith::cli {

void AddTraceCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "trace", "Export a job's trace (Chrome Trace Event JSON; check it with `hollerith verify`)");
  auto cluster = std::make_shared<ClusterFlags>();
  auto job = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("JOB", *job, "Job id, or a job name unique among kept jobs")->required();
  cmd->add_option("-o,--output", *output, "Write the trace to this file (default: stdout)");
  AddClusterFlags(cmd, *cluster);
  cmd->callback([=, &exit_code] {
    auto client = ConnectClient(*cluster);
    if (!client) {
      exit_code = 2;
      return;
    }
    auto trace = client->GetTrace(*job);
    if (!trace.ok()) {
      std::fprintf(stderr, "%s\n", trace.message().c_str());
      exit_code = 2;
      return;
    }
    if (output->empty() || *output == "-") {
      std::fwrite(trace->data(), 1, trace->size(), stdout);
      exit_code = 0;
      return;
    }
    if (Status s = WriteTextFile(*output, *trace); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      exit_code = 2;
      return;
    }
    std::fprintf(stderr, "trace of job %s written to %s\n", job->c_str(), output->c_str());
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
