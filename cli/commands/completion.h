// Shell completion scripts for `hollerith`, derived at run time from the CLI11 app (subcommands,
// their flags and positionals), so they follow the commands as they change. Job ids and STACK.CARD
// names come from the coordinator, when reachable, through `hollerith status --json`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace hollerith::cli {

// The shells `hollerith completion SHELL` knows.
const std::vector<std::string>& CompletionShells();

// Defines `_hollerith_complete_function` and registers it for `hollerith`.
std::string BashCompletionScript(const CLI::App& app);
// A #compdef file (`_hollerith`); also works sourced after compinit.
std::string ZshCompletionScript(const CLI::App& app);

}  // namespace hollerith::cli
