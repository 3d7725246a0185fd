// The node side of a job: hosts every stack placed on this node (one StackRunner each), routes the
// core's messages (assign, release, retry, skip) to them, and reports their events upward. One per
// worker daemon; `hollerith run --local` uses one with the node name "local".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/runner/stack_runner.h"

namespace hollerith {

class StackHost {
 public:
  struct Upward {
    std::function<void(const std::string& job, const CardStartedMsg&)> started;
    std::function<void(const std::string& job, const CardFinishedMsg&)> finished;
    // `workspace`: the directory the stack's runner made, empty if it made none (built-ins only).
    std::function<void(const std::string& job, uint32_t stack, uint32_t attempt,
                       const std::filesystem::path& workspace)>
        ended;
    // Output of running cards, as they write it (optional).
    std::function<void(const std::string& job, const CardOutputPiece&)> output;
  };

  StackHost(StackRunnerEnv env, const std::filesystem::path& work_root, Upward upward);
  StackHost(const StackHost&) = delete;  // its runners point at callbacks_
  StackHost& operator=(const StackHost&) = delete;

  void Assign(const std::string& job, std::shared_ptr<const StackSpec> stack,
              const AssignStackMsg& msg);
  void Release(const std::string& job, const ReleaseMsg& msg);
  // The releases of one coordinator message, taken together: a card they let start begins only
  // once every one of them has counted its clock. A restarted coordinator resends what a claimed
  // stack may have missed, and a release it made anew (after its producer's re-run) may follow
  // the one that completes the card's dependencies (the simulator, seed 1567991).
  void Release(const std::vector<std::pair<std::string, ReleaseMsg>>& releases);
  void CacheHit(const std::string& job, const CacheHitMsg& msg);
  void Retry(const std::string& job, const RetryMsg& msg);
  void Skip(const std::string& job, const SkipMsg& msg);
  // Stops every stack of the job (running cards are killed) and forgets it.
  void CancelJob(const std::string& job);
  // Stops one stack's run of `attempt` (its running card is killed), if it is here.
  void CancelStack(const std::string& job, uint32_t stack, uint32_t attempt);

  size_t active_stacks() const { return active_stacks_; }
  // What the running card of a stack wrote so far (see StackRunner::RunningOutput).
  bool RunningOutput(const std::string& job, uint32_t stack, bool err, size_t max,
                     std::string* data, CardOutputPiece* piece);
  // The directory a run of the stack works in (made only if a card needs it). A string, built by
  // concatenation: a path would parse itself into components, several allocations per stack held.
  std::string WorkspaceOf(const std::string& job, const StackSpec& stack, uint32_t attempt) const;

 private:
  StackRunner* Find(const std::string& job, uint32_t stack);

  StackRunnerEnv env_;
  std::string work_prefix_;  // the work root and a separator ("" for the current directory)
  Upward upward_;
  StackRunner::Callbacks callbacks_;  // every runner's: they pass upward with the runner's job
  // Per job, by stack: a lookup compares the job id with the few jobs here, not with the 50,000
  // stacks a worker holds in the fan-out benchmark (a map by (job, stack) did: memcmp was its
  // worker's first entry, 7 % of the samples).
  std::map<std::string, std::map<uint32_t, std::shared_ptr<StackRunner>>> runners_;
  size_t active_stacks_ = 0;
  // Runs cancelled here, per (job, stack id, attempt): a later run of the same attempt gets a
  // workspace of its own (WorkspaceOf). Only cancelled runs are counted: a handful per restart.
  std::map<std::tuple<std::string, std::string, uint32_t>, uint32_t> cancelled_runs_;
};

}  // namespace hollerith
