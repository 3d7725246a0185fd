#include "common/runner/stack_host.h"

#include <asio/post.hpp>

namespace hollerith {

std::filesystem::path StackHost::WorkspaceOf(const std::string& job, const StackSpec& stack,
                                             uint32_t attempt) const {
  // STACK.ATTEMPT; STACK.ATTEMPT-N after N runs of it here were cancelled: after a coordinator
  // restart a stack can come back with the attempt number it had while its old workspace is still
  // being removed in the background, and the new run must not share (and lose) that directory.
  const std::string name = stack.is_combine ? std::string("@combine") : stack.id;
  std::string leaf = name + "." + std::to_string(attempt);
  if (auto it = cancelled_runs_.find({job, stack.id, attempt}); it != cancelled_runs_.end()) {
    leaf += "-" + std::to_string(it->second);
  }
  return work_root_ / job / leaf;
}

StackRunner* StackHost::Find(const std::string& job, uint32_t stack) {
  auto it = runners_.find({job, stack});
  return it == runners_.end() ? nullptr : it->second.get();
}

void StackHost::Assign(const std::string& job, std::shared_ptr<const StackSpec> stack,
                       const AssignStackMsg& msg) {
  env_.clock.Receive(msg.lamport);
  Key key{job, msg.stack};
  if (auto* existing = Find(job, msg.stack); existing && existing->attempt() >= msg.attempt) {
    return;  // duplicate or stale assignment
  }
  auto workspace = WorkspaceOf(job, *stack, msg.attempt);
  StackRunner::Callbacks callbacks;
  callbacks.started = [this, job](const CardStartedMsg& m) { upward_.started(job, m); };
  callbacks.finished = [this, job](const CardFinishedMsg& m) { upward_.finished(job, m); };
  if (upward_.output) {
    callbacks.output = [this, job](const CardOutputPiece& p) { upward_.output(job, p); };
  }
  const uint32_t stack_index = msg.stack;
  const uint32_t attempt = msg.attempt;
  // The runner calls `ended` itself (so it is alive then), possibly after a newer attempt
  // replaced it here.
  auto self = std::make_shared<std::weak_ptr<StackRunner>>();
  callbacks.ended = [this, job, stack_index, attempt, self] {
    std::filesystem::path made;
    if (auto runner = self->lock(); runner && runner->workspace_made()) made = runner->workspace();
    // Defer the erase: the runner is still on the call stack.
    asio::post(env_.io, [this, job, stack_index, attempt, made = std::move(made)] {
      auto it = runners_.find({job, stack_index});
      if (it != runners_.end() && it->second->attempt() == attempt) runners_.erase(it);
      if (upward_.ended) upward_.ended(job, stack_index, attempt, made);
    });
  };
  auto runner = std::make_shared<StackRunner>(env_, std::move(stack), msg, std::move(workspace),
                                              std::move(callbacks));
  *self = runner;
  runners_[key] = runner;
  runner->Start();
}

void StackHost::Release(const std::string& job, const ReleaseMsg& msg) {
  env_.clock.Receive(msg.lamport);
  if (auto* r = Find(job, msg.to.stack)) r->OnRelease(msg);
}

void StackHost::Release(const std::vector<std::pair<std::string, ReleaseMsg>>& releases) {
  std::vector<std::shared_ptr<StackRunner>> touched;
  for (const auto& [job, msg] : releases) {
    env_.clock.Receive(msg.lamport);
    auto it = runners_.find({job, msg.to.stack});
    if (it == runners_.end()) continue;
    it->second->OnRelease(msg, /*start=*/false);
    if (touched.empty() || touched.back() != it->second) touched.push_back(it->second);
  }
  for (const auto& r : touched) r->StartReady();  // a runner touched twice starts once
}

void StackHost::CacheHit(const std::string& job, const CacheHitMsg& msg) {
  env_.clock.Receive(msg.lamport);
  if (auto* r = Find(job, msg.stack)) r->OnCacheHit(msg);
}

void StackHost::Retry(const std::string& job, const RetryMsg& msg) {
  env_.clock.Receive(msg.lamport);
  if (auto* r = Find(job, msg.card.stack)) r->OnRetry(msg);
}

void StackHost::Skip(const std::string& job, const SkipMsg& msg) {
  env_.clock.Receive(msg.lamport);
  if (auto* r = Find(job, msg.stack)) r->OnSkip(msg);
}

bool StackHost::RunningOutput(const std::string& job, uint32_t stack, bool err, size_t max,
                              std::string* data, CardOutputPiece* piece) {
  StackRunner* r = Find(job, stack);
  return r && r->RunningOutput(err, max, data, piece);
}

void StackHost::CancelStack(const std::string& job, uint32_t stack, uint32_t attempt) {
  StackRunner* r = Find(job, stack);
  if (!r || r->attempt() != attempt) return;
  ++cancelled_runs_[{job, r->spec().id, attempt}];
  r->OnSkip(SkipMsg{stack, attempt, 0, "cancelled", env_.clock.now()});
}

void StackHost::CancelJob(const std::string& job) {
  for (auto it = runners_.lower_bound({job, 0}); it != runners_.end() && it->first.first == job;
       ++it) {
    SkipMsg skip{it->first.second, it->second->attempt(), 0, "cancelled", env_.clock.now()};
    ++cancelled_runs_[{job, it->second->spec().id, it->second->attempt()}];
    it->second->OnSkip(skip);
  }
}

}  // namespace hollerith
