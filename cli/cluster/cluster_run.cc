#include "cli/cluster/cluster_run.h"

#include <cstdio>
#include <iostream>

#include "cli/cluster/interrupt.h"
#include "cli/cluster/local_cluster.h"
#include "cli/commands/text_file.h"
#include "cli/display/job_follow.h"
#include "cli/display/tables.h"
#include "common/spec/parser.h"

namespace hollerith::cli {
namespace {

int Fail(LocalCluster& cluster, const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  for (const auto& what : cluster.ReapExited()) std::fprintf(stderr, "%s\n", what.c_str());
  if (InterruptSignal() != 0) {
    std::fprintf(stderr, "stopping the cluster...\n");
    cluster.Stop();
    return 2;
  }
  cluster.KeepDataDir();
  cluster.Stop();
  std::fprintf(stderr, "cluster logs kept in %s\n", cluster.data_dir().c_str());
  return 2;
}

}  // namespace

int RunOnLocalCluster(const ClusterRunOptions& o) {
  auto text = ReadSpecToSubmit(o.file);
  if (!text.ok()) {
    std::fprintf(stderr, "%s\n", text.message().c_str());
    return 2;
  }
  // Check the spec here first: the same parser as the coordinator's, without starting a cluster.
  if (auto spec = LoadJobSpecFile(o.file); !spec.ok()) {
    std::fprintf(stderr, "%s\n", spec.message().c_str());
    return 2;
  }
  InstallInterruptHandler();
  auto interrupted = [] { return InterruptSignal() != 0; };
  auto started = LocalCluster::Start(
      {.workers = o.workers, .slots = o.slots, .data_dir = o.data_dir, .interrupted = interrupted});
  if (!started.ok()) {
    std::fprintf(stderr, "cluster failed to start: %s\n", started.message().c_str());
    return 2;
  }
  LocalCluster& cluster = **started;
  std::fprintf(stderr, "cluster up: coordinator at %s, %d workers, data in %s\n",
               cluster.address().c_str(), o.workers, cluster.data_dir().c_str());
  auto job = cluster.client().Submit(*text, o.file, NewIdempotencyKey(), o.cache);
  if (!job.ok()) return Fail(cluster, job.message());
  std::fprintf(stderr, "submitted job %s\n", job->job_id.c_str());
  auto status = FollowJob(cluster.client(), job->job_id, {.interrupted = interrupted});
  if (!status.ok()) return Fail(cluster, status.message());

  int exit_code = ExitCodeForJob(*status);
  if (!o.trace.empty()) {
    auto trace = cluster.client().GetTrace(job->job_id);
    Status written = trace.ok() ? WriteTextFile(o.trace, *trace) : trace.status();
    if (written.ok()) {
      std::fprintf(stderr, "trace written to %s\n", o.trace.c_str());
    } else {
      std::fprintf(stderr, "%s\n", written.message().c_str());
      if (exit_code == 0) exit_code = 2;  // asked for, not delivered
    }
  }
  if (o.json) {
    std::cout << ResultDocumentText(*status) << std::endl;
  } else {
    PrintCardTable(stdout, *status);
  }
  std::fprintf(stderr, "%s\n", JobSummaryLine(*status).c_str());
  if (exit_code != 0) {
    cluster.KeepDataDir();
    std::fprintf(stderr, "cluster data (logs, workspaces) kept in %s\n",
                 cluster.data_dir().c_str());
  }
  cluster.Stop();
  return exit_code;
}

}  // namespace hollerith::cli
