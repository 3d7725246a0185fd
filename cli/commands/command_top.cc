#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/display/top_view.h"

namespace hollerith::cli {
namespace {

constexpr size_t kMaxDetailedJobs = 10;  // GetJob per refresh for at most this many running jobs

struct TopFlags {
  ClusterFlags cluster;
  double interval_s = 1.0;
  bool once = false;
};

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One snapshot of the cluster, or the error that kept us from taking it.
Result<TopSnapshot> TakeSnapshot(Client& client) {
  TopSnapshot s;
  s.coordinator = client.address();
  auto workers = client.ListWorkers(&s.coordinator_version);
  if (!workers.ok()) return workers.status();
  s.workers = std::move(*workers);
  auto jobs = client.ListJobs();
  if (!jobs.ok()) return jobs.status();
  s.jobs = std::move(*jobs);
  std::vector<const v1::JobStatus*> running;
  for (const auto& j : s.jobs) {
    if (j.state() == "running") running.push_back(&j);
  }
  std::sort(running.begin(), running.end(), [](const auto* a, const auto* b) {
    return a->submitted_wall_us() > b->submitted_wall_us();
  });
  if (running.size() > kMaxDetailedJobs) running.resize(kMaxDetailedJobs);
  for (const auto* j : running) {
    auto detail = client.GetJob(j->job_id(), {.results = false});   // the stacks alone
    if (detail.ok()) s.running_jobs.push_back(std::move(*detail));  // it may have gone since
  }
  s.now_wall_us = WallMicros();
  return s;
}

int RunTop(Client& client, const TopFlags& f) {
  const bool tty = isatty(STDOUT_FILENO) == 1;
  for (;;) {
    auto snapshot = TakeSnapshot(client);
    if (f.once) {
      if (!snapshot.ok()) {
        std::fprintf(stderr, "%s\n", snapshot.message().c_str());
        return 2;
      }
      std::fputs(RenderTop(*snapshot).c_str(), stdout);
      return 0;
    }
    const std::string frame =
        snapshot.ok() ? RenderTop(*snapshot)
                      : "hollerith top: " + client.address() + ": " + snapshot.message() +
                            "\n(trying again every interval; Ctrl-C to stop)\n";
    // Home, the frame, clear what the previous frame left below it: no flicker.
    std::fputs(tty ? ("\x1b[H" + frame + "\x1b[J").c_str() : (frame + "\n").c_str(), stdout);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(f.interval_s));  // the refresh rate
  }
}

}  // namespace

void AddTopCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "top",
      "Live view of the cluster: workers and their busy slots, running jobs, where each running "
      "stack is; refreshes in place until Ctrl-C");
  auto f = std::make_shared<TopFlags>();
  cmd->add_option("--interval", f->interval_s, "Seconds between refreshes")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--once", f->once, "Print one frame and exit (for scripts)");
  AddClusterFlags(cmd, f->cluster);
  cmd->callback([f, &exit_code] {
    auto client = ConnectClient(f->cluster);
    if (!client) {
      exit_code = 2;
      return;
    }
    if (isatty(STDOUT_FILENO) == 1 && !f->once) std::fputs("\x1b[2J", stdout);
    exit_code = RunTop(*client, *f);
  });
}

}  // namespace hollerith::cli
