// The flags every command that talks to a coordinator takes (--coordinator, --token-file) and the
// Client they make.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "cli/client/client.h"

namespace hollerith::cli {

inline constexpr const char* kDefaultCoordinator = "127.0.0.1:7070";

struct ClusterFlags {
  std::string coordinator;  // empty: $HOLLERITH_COORDINATOR, else kDefaultCoordinator
  std::string token_file;   // empty: $HOLLERITH_TOKEN_FILE
};

void AddClusterFlags(CLI::App* cmd, ClusterFlags& flags);

// A client for the flags' coordinator and token; nullopt after printing why not (a missing token
// names where to find it). The caller exits 2 then.
std::optional<Client> ConnectClient(const ClusterFlags& flags);

}  // namespace hollerith::cli
