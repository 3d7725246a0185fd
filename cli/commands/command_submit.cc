#include <cstdio>
#include <iostream>

#include "cli/commands/cache_flags.h"
#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/commands/text_file.h"
#include "cli/display/job_follow.h"
#include "cli/display/tables.h"

namespace hollerith::cli {
namespace {

struct SubmitFlags {
  ClusterFlags cluster;
  std::string file;
  bool wait = false;
  bool json = false;
  std::string key;
  CacheFlags cache;
};

int Submit(const SubmitFlags& f) {
  auto text = ReadSpecToSubmit(f.file);
  if (!text.ok()) {
    std::fprintf(stderr, "%s\n", text.message().c_str());
    return 2;
  }
  auto client = ConnectClient(f.cluster);
  if (!client) return 2;
  const CacheMode cache = CacheModeOf(f.cache);
  auto job = client->Submit(*text, f.file, f.key.empty() ? NewIdempotencyKey() : f.key,
                            cache == CacheMode::kOn ? "" : CacheModeName(cache));
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", job.message().c_str());  // spec errors read file:line:col: ...
    return 2;
  }
  if (job->existing) {
    std::fprintf(stderr, "key %s already submitted: job %s\n", f.key.c_str(), job->job_id.c_str());
  }
  for (const auto& warning : job->warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
  if (f.json) {
    std::fprintf(stderr, "submitted job %s\n", job->job_id.c_str());
  } else {
    std::printf("%s\n", job->job_id.c_str());
  }
  std::fflush(stdout);
  if (!f.wait && !f.json) return 0;
  auto status = FollowJob(*client, job->job_id, {.progress = f.wait && !f.json});
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.message().c_str());
    return 2;
  }
  if (f.json) {
    std::cout << ResultDocumentText(*status) << std::endl;
  }
  std::fprintf(stderr, "job '%s' %s%s%s\n", status->name().c_str(), status->state().c_str(),
               status->reason().empty() ? "" : ": ", status->reason().c_str());
  return ExitCodeForJob(*status);
}

}  // namespace

void AddSubmitCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "submit", "Submit a job to a coordinator and print its id (--wait: exit 0 ok, 1 failed)");
  auto f = std::make_shared<SubmitFlags>();
  cmd->add_option("FILE", f->file, "Job spec (YAML or JSON)")->required();
  cmd->add_flag("--wait", f->wait, "Wait for the job, showing progress; exit 0 ok, 1 failed");
  cmd->add_flag("--json", f->json, "Wait for the job and print its result document as JSON");
  cmd->add_option("--key", f->key,
                  "Idempotency key: submitting the same key again returns the same job "
                  "(default: a new random key)");
  AddCacheFlags(cmd, f->cache, /*local=*/false);
  AddClusterFlags(cmd, f->cluster);
  cmd->callback([f, &exit_code] { exit_code = Submit(*f); });
}

}  // namespace hollerith::cli
