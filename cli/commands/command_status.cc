#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/display/tables.h"
#include "common/base/json_text.h"

namespace hollerith::cli {
namespace {

struct StatusFlags {
  ClusterFlags cluster;
  std::string job;
  bool json = false;
};

nlohmann::ordered_json JobSummaryJson(const v1::JobStatus& j) {
  return {{"job_id", j.job_id()},
          {"name", j.name()},
          {"state", j.state()},
          {"reason", j.reason()},
          {"cards_done", j.cards_done()},
          {"cards_total", j.cards_total()},
          {"submitted_wall_us", j.submitted_wall_us()}};
}

int ListJobs(Client& client, bool json) {
  auto jobs = client.ListJobs();
  if (!jobs.ok()) {
    std::fprintf(stderr, "%s\n", jobs.message().c_str());
    return 2;
  }
  if (json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& j : *jobs) list.push_back(JobSummaryJson(j));
    std::cout << JsonText(list, 2) << std::endl;
  } else {
    PrintJobsTable(stdout, *jobs);
  }
  return 0;
}

int ShowJob(Client& client, const std::string& job, bool json) {
  auto status = client.GetJob(job);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.message().c_str());
    return 2;
  }
  if (json) {
    std::cout << ResultDocumentText(*status) << std::endl;
  } else {
    PrintJobStacks(stdout, *status);
  }
  return 0;
}

}  // namespace

void AddStatusCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "status", "Show the kept jobs, or one job's state and stacks (why a stack is waiting)");
  auto f = std::make_shared<StatusFlags>();
  cmd->add_option("JOB", f->job, "Job id, or a job name unique among kept jobs");
  cmd->add_flag("--json", f->json,
                "Print the job's result document (or the job list) as JSON; while stacks wait, "
                "its \"waiting\" object says why each one does (STACK: reason)");
  AddClusterFlags(cmd, f->cluster);
  cmd->callback([f, &exit_code] {
    auto client = ConnectClient(f->cluster);
    if (!client) {
      exit_code = 2;
      return;
    }
    exit_code = f->job.empty() ? ListJobs(*client, f->json) : ShowJob(*client, f->job, f->json);
  });
}

}  // namespace hollerith::cli
