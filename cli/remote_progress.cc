#include "cli/remote_progress.h"

namespace hollerith::cli {
namespace {

StackProgress FromProto(const v1::StackStatus& s) {
  StackProgress p;
  p.name = s.name();
  p.done = s.done();
  p.total = s.total();
  p.node = s.node();
  p.state = s.state();
  return p;
}

}  // namespace

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

void RemoteProgress::Apply(const v1::JobEvent& event) {
  if (event.kind() == "card_skipped") ++progress_.skipped;
  const v1::StackStatus& s = event.stack_status();
  if (s.name().empty()) return;
  for (auto& stack : progress_.stacks) {
    if (stack.name == s.name()) {
      stack = FromProto(s);
      Recount();
      return;
    }
  }
  progress_.stacks.push_back(FromProto(s));
  Recount();
}

void RemoteProgress::Recount() {
  progress_.cards_done = 0;
  progress_.cards_total = 0;
  progress_.failed = 0;
  for (const auto& s : progress_.stacks) {
    progress_.cards_done += s.done;
    progress_.cards_total += s.total;
    if (s.state == "failed") ++progress_.failed;
  }
}

}  // namespace hollerith::cli
