// `hollerith`: the command-line client. Thin: every subcommand lives in its own command_*.cc.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cli/cluster/child_guard.h"
#include "cli/commands/commands.h"
#include "common/base/version.h"

int main(int argc, char** argv) {
  // Daemons started by `up` / `run --workers` pass through here first (never returns for them).
  hollerith::cli::MaybeRunChildGuard(argc, argv);
  // What the libraries log (a local run's cache, its stack runner) goes to stderr, as every other
  // word for people does: stdout carries results (--json) alone.
  spdlog::set_default_logger(spdlog::stderr_logger_st("hollerith"));
  spdlog::set_pattern("hollerith: %l: %v");

  CLI::App app{"hollerith: run dependent stacks of cards across machines, ordered as if local"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("hollerith ") + hollerith::kVersionString);
  int exit_code = 0;
  hollerith::cli::AddValidateCommand(app, exit_code);
  hollerith::cli::AddRunCommand(app, exit_code);
  hollerith::cli::AddVerifyCommand(app, exit_code);
  hollerith::cli::AddExploreCommand(app, exit_code);
  hollerith::cli::AddReplayCommand(app, exit_code);
  hollerith::cli::AddUpCommand(app, exit_code);
  hollerith::cli::AddCertsCommand(app, exit_code);
  hollerith::cli::AddSubmitCommand(app, exit_code);
  hollerith::cli::AddStatusCommand(app, exit_code);
  hollerith::cli::AddWatchCommand(app, exit_code);
  hollerith::cli::AddLogsCommand(app, exit_code);
  hollerith::cli::AddCancelCommand(app, exit_code);
  hollerith::cli::AddDeleteCommand(app, exit_code);
  hollerith::cli::AddWorkersCommand(app, exit_code);
  hollerith::cli::AddQuotaCommand(app, exit_code);
  hollerith::cli::AddCacheCommand(app, exit_code);
  hollerith::cli::AddTopCommand(app, exit_code);
  hollerith::cli::AddTraceCommand(app, exit_code);
  hollerith::cli::AddHelpCommand(app, exit_code);
  hollerith::cli::AddCompletionCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
