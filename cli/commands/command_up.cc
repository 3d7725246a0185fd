#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/cluster/interrupt.h"
#include "cli/cluster/local_cluster.h"
#include "cli/commands/commands.h"

namespace hollerith::cli {
namespace {

int Up(const LocalClusterOptions& options) {
  InstallInterruptHandler();
  std::fprintf(stderr, "starting a coordinator and %d worker%s...\n", options.workers,
               options.workers == 1 ? "" : "s");
  auto started = LocalCluster::Start(options);
  if (!started.ok()) {
    std::fprintf(stderr, "cluster failed to start: %s\n", started.message().c_str());
    return 2;
  }
  LocalCluster& cluster = **started;
  std::printf(
      "cluster up: coordinator at %s, %d worker%s (w1..w%d), data in %s\n"
      "use it from another shell:\n"
      "  export HOLLERITH_COORDINATOR=%s\n"
      "  export HOLLERITH_TOKEN_FILE=%s\n"
      "  hollerith submit examples/report.yaml --wait\n"
      "  hollerith status; hollerith workers\n"
      "web view: %s (log in with the token in %s)\n"
      "press Ctrl-C to stop the cluster\n",
      cluster.address().c_str(), options.workers, options.workers == 1 ? "" : "s", options.workers,
      cluster.data_dir().c_str(), cluster.address().c_str(), cluster.token_file().c_str(),
      cluster.web_url().c_str(), cluster.token_file().c_str());
  std::fflush(stdout);
  int exit_code = 0;
  while (InterruptSignal() == 0) {
    bool coordinator_died = false;
    for (const auto& what : cluster.ReapExited(&coordinator_died)) {
      std::fprintf(stderr, "%s\n", what.c_str());
    }
    if (coordinator_died) {
      std::fprintf(stderr, "the coordinator is gone: stopping the cluster\n");
      cluster.KeepDataDir();
      exit_code = 1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::fprintf(stderr, "stopping the cluster...\n");
  cluster.Stop();
  std::fprintf(stderr, "cluster stopped\n");
  return exit_code;
}

}  // namespace

void AddUpCommand(CLI::App& app, int& exit_code) {
  auto* cmd =
      app.add_subcommand("up", "Start a coordinator and N workers on this machine until Ctrl-C");
  auto options = std::make_shared<LocalClusterOptions>();
  options->interrupted = [] { return InterruptSignal() != 0; };
  cmd->add_option("--workers,-w", options->workers, "Number of workers (default 2)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slots", options->slots, "Cards at once per worker (default: the worker's)");
  cmd->add_option("--data-dir", options->data_dir,
                  "Coordinator store, logs and worker workspaces (default: a new temp dir, "
                  "removed on exit)");
  cmd->callback([options, &exit_code] { exit_code = Up(*options); });
}

}  // namespace hollerith::cli
