// The flags every command that talks to a coordinator takes (--coordinator, --token-file, --tls-*)
// and the Client they make.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>

#include "cli/client/client.h"

namespace hollerith::cli {

inline constexpr const char* kDefaultCoordinator = "127.0.0.1:7070";

struct ClusterFlags {
  std::string coordinator;  // empty: $HOLLERITH_COORDINATOR, else kDefaultCoordinator
  std::string token_file;   // empty: $HOLLERITH_TOKEN_FILE
  std::string tls_ca;       // empty: $HOLLERITH_TLS_CA (all three given: TLS instead of a token)
  std::string tls_cert;     // empty: $HOLLERITH_TLS_CERT
  std::string tls_key;      // empty: $HOLLERITH_TLS_KEY
};

void AddClusterFlags(CLI::App* cmd, ClusterFlags& flags);

// A client for the flags' coordinator and token; nullopt after printing why not (a missing token
// names where to find it). The caller exits 2 then.
std::optional<Client> ConnectClient(const ClusterFlags& flags);

// A subcommand about one job (JOB: an id, or a name unique among kept jobs) on the coordinator:
// it connects, then `run` does the work and returns the exit code (2 if it could not connect).
using JobAction = std::function<int(Client& client, const std::string& job)>;
CLI::App* AddJobCommand(CLI::App& app, const std::string& name, const std::string& help,
                        int& exit_code, JobAction run);

}  // namespace hollerith::cli
