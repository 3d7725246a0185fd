#include <cstdio>

#include "cli/commands/commands.h"
#include "common/spec/fanout.h"
#include "common/spec/parser.h"
#include "common/trace/chrome_trace.h"
#include "common/trace/verify.h"

namespace hollerith::cli {

void AddVerifyCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "verify",
      "Check that a trace proves the run respected every happens-before edge of its spec");
  auto trace_file = std::make_shared<std::string>();
  auto spec_file = std::make_shared<std::string>();
  cmd->add_option("TRACE", *trace_file, "Trace written by --trace or `hollerith trace`")
      ->required();
  cmd->add_option("--spec", *spec_file, "The job spec the trace belongs to")->required();
  cmd->callback([trace_file, spec_file, &exit_code] {
    auto spec = LoadJobSpecFile(*spec_file);
    if (!spec.ok()) {
      std::fprintf(stderr, "%s\n", spec.message().c_str());
      exit_code = 2;
      return;
    }
    // A run-time matrix's stacks are made again from the lists the trace recorded.
    auto read =
        ReadChromeTraceFile(std::make_shared<const JobSpec>(std::move(spec).value()), *trace_file,
                            [](const JobSpec& job, uint32_t stack, std::string_view list) {
                              return ExpandFanOut(job, stack, list);
                            });
    if (!read.ok()) {
      std::fprintf(stderr, "%s: %s\n", trace_file->c_str(), read.message().c_str());
      exit_code = 2;
      return;
    }
    auto report = VerifyTrace(*read->job, read->trace);
    if (!report.ok()) {
      std::fprintf(stderr, "%s: FAILED: %s\n", trace_file->c_str(), report.message().c_str());
      exit_code = 1;
      return;
    }
    std::printf("%s: verified: %zu events, %zu happens-before edges respected\n",
                trace_file->c_str(), report->events, report->edges_checked);
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
