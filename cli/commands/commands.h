// The `hollerith` subcommands. Each Add*Command registers one subcommand whose callback stores the
// process exit code in `exit_code`: 0 ok; 1 the job failed / the check failed; 2 bad input or
// usage, or the request could not be carried out (coordinator unreachable, token rejected, no such
// job, local cluster failed to start).
#pragma once

#include <CLI/CLI.hpp>

namespace hollerith::cli {

// Local.
void AddValidateCommand(CLI::App& app, int& exit_code);
void AddRunCommand(CLI::App& app, int& exit_code);
void AddVerifyCommand(CLI::App& app, int& exit_code);
// `explore JOB`: the job in several orders its dependencies allow; `replay TRACE --spec JOB`: in
// the order a trace recorded. Both compare card results (undeclared dependencies, reproductions).
void AddExploreCommand(CLI::App& app, int& exit_code);
void AddReplayCommand(CLI::App& app, int& exit_code);
void AddUpCommand(CLI::App& app, int& exit_code);
// The cluster's TLS certificates: `certs init DIR`, `certs issue NAME --role ...`, `certs show`.
void AddCertsCommand(CLI::App& app, int& exit_code);

// Against a coordinator (--coordinator, --token-file).
void AddSubmitCommand(CLI::App& app, int& exit_code);
void AddStatusCommand(CLI::App& app, int& exit_code);
void AddWatchCommand(CLI::App& app, int& exit_code);
void AddLogsCommand(CLI::App& app, int& exit_code);
void AddCancelCommand(CLI::App& app, int& exit_code);
void AddDeleteCommand(CLI::App& app, int& exit_code);
void AddWorkersCommand(CLI::App& app, int& exit_code);
void AddQuotaCommand(CLI::App& app, int& exit_code);
// `cache ls|show|rm|clear`: the result cache's entries (the coordinator's, or --local's).
void AddCacheCommand(CLI::App& app, int& exit_code);
void AddTopCommand(CLI::App& app, int& exit_code);
void AddTraceCommand(CLI::App& app, int& exit_code);

// About the command itself: `help spec` (the job spec reference) and `completion bash|zsh`.
void AddHelpCommand(CLI::App& app, int& exit_code);
void AddCompletionCommand(CLI::App& app, int& exit_code);

}  // namespace hollerith::cli
