// Following a job on a coordinator until it finishes, with live progress on stderr.
#pragma once

#include <functional>
#include <string>

#include "cli/client/client.h"

namespace hollerith::cli {

struct FollowOptions {
  bool progress = true;               // draw cli/progress bars on stderr
  std::function<bool()> interrupted;  // polled; true stops following (an error is returned)
};

// Watches `job` (id or unique name) from its first event until it finishes; returns its final
// status.
Result<v1::JobStatus> FollowJob(Client& client, const std::string& job,
                                const FollowOptions& options);

// 0 for a job that succeeded, 1 otherwise: the exit code of the commands that wait for jobs.
int ExitCodeForJob(const v1::JobStatus& job);

}  // namespace hollerith::cli
