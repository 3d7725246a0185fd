// What a local run (`run --local`, `explore`, `replay`) starts from: the job, the sandbox of its
// cards, and where their workspaces go.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/base/status.h"
#include "common/runner/card_sandbox.h"
#include "common/spec/job.h"

namespace hollerith::cli {

struct LocalJob {
  std::shared_ptr<const JobSpec> job;
  CardSandbox sandbox;
};
// The spec in `file` and the sandbox --run-as and --default-limits name; the error names the
// spec's place (file:line:col) or the flag at fault.
Result<LocalJob> LoadLocalJob(const std::string& file, const std::string& run_as,
                              const std::string& default_limits);

// A new directory hollerith-JOB-XXXXXX in the system's temp dir (mkdtemp: mode 0700).
std::filesystem::path NewTempWorkdir(const std::string& job);
// Creates `workdir`; when cards run as another user, lets them reach their workspaces while the
// artifact store stays this process's alone.
Status PrepareWorkdir(const std::filesystem::path& workdir, const CardSandbox& sandbox);

}  // namespace hollerith::cli
