#include "common/runner/stack_host.h"

#include <asio/post.hpp>
#include <utility>

namespace hollerith {

StackHost::StackHost(StackRunnerEnv env, const std::filesystem::path& work_root, Upward upward)
    : env_(env), work_prefix_(work_root.string()), upward_(std::move(upward)) {
  if (!work_prefix_.empty() && work_prefix_.back() != '/') work_prefix_ += '/';
  callbacks_.started = [this](const StackRunner& r, const CardStartedMsg& m) {
    upward_.started(r.job(), m);
  };
  callbacks_.finished = [this](const StackRunner& r, const CardFinishedMsg& m) {
    upward_.finished(r.job(), m);
  };
  if (upward_.output) {
    callbacks_.output = [this](const StackRunner& r, const CardOutputPiece& p) {
      upward_.output(r.job(), p);
    };
  }
  // The runner calls `ended` itself (so it is alive then), possibly after a newer attempt
  // replaced it here.
  callbacks_.ended = [this](const StackRunner& r) {
    std::filesystem::path made;
    if (r.workspace_made()) made = r.workspace();
    // Defer the erase: the runner is still on the call stack.
    asio::post(env_.io, [this, job = r.job(), stack = r.stack(), attempt = r.attempt(),
                         made = std::move(made)] {
      if (auto j = runners_.find(job); j != runners_.end()) {
        auto it = j->second.find(stack);
        if (it != j->second.end() && it->second->attempt() == attempt) {
          j->second.erase(it);
          --active_stacks_;
          if (j->second.empty()) runners_.erase(j);
        }
      }
      if (upward_.ended) upward_.ended(job, stack, attempt, made);
    });
  };
}

std::string StackHost::WorkspaceOf(const std::string& job, const StackSpec& stack,
                                   uint32_t attempt) const {
  // STACK.ATTEMPT; STACK.ATTEMPT-N after N runs of it here were cancelled: after a coordinator
  // restart a stack can come back with the attempt number it had while its old workspace is still
  // being removed in the background, and the new run must not share (and lose) that directory.
  const std::string name = stack.is_combine ? std::string("@combine") : stack.id;
  std::string dir = work_prefix_ + job + '/' + name + '.' + std::to_string(attempt);
  if (auto it = cancelled_runs_.find({job, stack.id, attempt}); it != cancelled_runs_.end()) {
    dir += '-' + std::to_string(it->second);
  }
  return dir;
}

StackRunner* StackHost::Find(const std::string& job, uint32_t stack) {
  auto j = runners_.find(job);
  if (j == runners_.end()) return nullptr;
  auto it = j->second.find(stack);
  return it == j->second.end() ? nullptr : it->second.get();
}

void StackHost::Assign(const std::string& job, std::shared_ptr<const StackSpec> stack,
                       const AssignStackMsg& msg) {
  env_.clock.Receive(msg.lamport);
  if (auto* existing = Find(job, msg.stack); existing && existing->attempt() >= msg.attempt) {
    return;  // duplicate or stale assignment
  }
  auto workspace = WorkspaceOf(job, *stack, msg.attempt);
  auto runner = std::make_shared<StackRunner>(env_, job, std::move(stack), msg,
                                              std::move(workspace), callbacks_);
  auto& held = runners_[job][msg.stack];
  if (!held) ++active_stacks_;
  held = runner;
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
    auto j = runners_.find(job);
    if (j == runners_.end()) continue;
    auto it = j->second.find(msg.to.stack);
    if (it == j->second.end()) continue;
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
  auto j = runners_.find(job);
  if (j == runners_.end()) return;
  for (const auto& [stack, runner] : j->second) {
    SkipMsg skip{stack, runner->attempt(), 0, "cancelled", env_.clock.now()};
    ++cancelled_runs_[{job, runner->spec().id, runner->attempt()}];
    runner->OnSkip(skip);
  }
}

}  // namespace hollerith
