// `hollerith run FILE --workers N`: the job on a throwaway local cluster (a coordinator and N
// workers started for it, stopped afterwards), with the same output as a run against a real one.
#pragma once

#include <string>

namespace hollerith::cli {

struct ClusterRunOptions {
  std::string file;
  int workers = 2;
  int slots = 0;
  std::string data_dir;  // empty: a temporary one, removed unless the job or the cluster failed
  bool json = false;
  std::string trace;
  std::string cache;  // SubmitJobRequest.cache: "" (on), "refresh", "read-only"
};

// Exit code: 0 job succeeded, 1 job failed, 2 bad spec or the cluster could not run it.
int RunOnLocalCluster(const ClusterRunOptions& options);

}  // namespace hollerith::cli
