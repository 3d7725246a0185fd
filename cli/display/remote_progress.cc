#include "cli/display/remote_progress.h"

#include <algorithm>
#include <chrono>
#include <string_view>

#include "common/spec/job.h"

namespace hollerith::cli {
namespace {

// The combine stack's name in events (its trace name); its status is named "combine", which a
// user stack may be called too, and says is_combine.
constexpr std::string_view kCombineEventStack = "@combine";

StackProgress FromProto(const v1::StackStatus& s) {
  StackProgress p;
  p.name = s.is_combine() ? std::string(kCombineName) : s.name();
  p.is_combine = s.is_combine();
  p.done = s.done();
  p.total = s.total();
  p.node = s.node();
  p.state = s.state();
  return p;
}

}  // namespace

int64_t WallMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

JobProgress ProgressFromStatus(const v1::JobStatus& status) {
  JobProgress p;
  p.job = status.name().empty() ? status.job_id() : status.name();
  for (const auto& s : status.stacks()) {
    p.stacks.push_back(FromProto(s));
    if (s.state() == "failed") ++p.failed;  // a stack fails at exactly one card
  }
  p.cards_done = status.cards_done();
  p.cards_total = status.cards_total();
  return p;
}

RemoteProgress::RemoteProgress(const v1::JobStatus& status)
    : progress_(ProgressFromStatus(status)), times_(progress_.stacks.size()) {
  for (size_t i = 0; i < progress_.stacks.size(); ++i) {
    const StackProgress& s = progress_.stacks[i];
    index_.emplace(s.is_combine ? std::string(kCombineEventStack) : s.name, i);
  }
}

size_t RemoteProgress::StackIndex(const std::string& name) {
  if (auto it = index_.find(name); it != index_.end()) return it->second;
  StackProgress& added = progress_.stacks.emplace_back();
  added.is_combine = name == kCombineEventStack;
  added.name = added.is_combine ? std::string(kCombineName) : name;
  added.state = "waiting";  // until its status arrives
  times_.emplace_back();
  index_.emplace(name, progress_.stacks.size() - 1);
  return progress_.stacks.size() - 1;
}

void RemoteProgress::Apply(const v1::JobEvent& event) {
  if (event.kind() == "card_skipped") ++progress_.skipped;
  if (event.kind() == "fan_out") return;  // its instances' events follow
  // The coordinator puts a stack's status on its last event of a batch only.
  const v1::StackStatus& s = event.stack_status();
  const std::string name = s.name().empty() ? event.stack()
                           : s.is_combine() ? std::string(kCombineEventStack)
                                            : s.name();
  if (name.empty()) return;
  const size_t i = StackIndex(name);
  StackTimes& t = times_[i];
  if (event.kind() == "card_started" && t.start_us == 0) t.start_us = event.wall_us();
  if (s.name().empty()) return;
  // Totals change by this stack's difference only: constant work per event.
  const StackProgress& before = progress_.stacks[i];
  progress_.cards_done -= std::min(progress_.cards_done, before.done);
  progress_.cards_total -= std::min(progress_.cards_total, before.total);
  if (before.state == "failed" && progress_.failed > 0) --progress_.failed;
  progress_.stacks[i] = FromProto(s);
  const StackProgress& after = progress_.stacks[i];
  progress_.cards_done += after.done;
  progress_.cards_total += after.total;
  if (after.state == "failed") ++progress_.failed;
  t.end_us = StackStateEnded(s.state()) ? event.wall_us() : 0;
}

JobProgress RemoteProgress::Snapshot(int64_t now_us) const {
  JobProgress p = progress_;
  for (size_t i = 0; i < p.stacks.size(); ++i) {
    const StackTimes& t = times_[i];
    if (t.start_us == 0) continue;
    const int64_t end = t.end_us != 0 ? t.end_us : now_us;
    p.stacks[i].elapsed_s = end > t.start_us ? static_cast<double>(end - t.start_us) / 1e6 : 0.0;
  }
  return p;
}

}  // namespace hollerith::cli
