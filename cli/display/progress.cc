#include "cli/display/progress.h"

#include <unistd.h>

#include <algorithm>

namespace hollerith::cli {
namespace {

constexpr size_t kMaxStackLines = 12;
constexpr size_t kPlainPerStackLimit = 200;

std::string Bar(size_t done, size_t total, size_t width) {
  size_t filled = total == 0 ? width : done * width / total;
  return std::string(filled, '#') + std::string(width - filled, '.');
}

std::string ElapsedText(const StackProgress& s) {
  char text[32] = "";
  if (s.elapsed_s >= 0) std::snprintf(text, sizeof text, "%.1fs", s.elapsed_s);
  return text;
}

}  // namespace

std::string CombineText(const JobProgress& p, const StackProgress& combine) {
  const std::string& state = combine.state;
  if (state == "running")
    return "combine running" + (combine.node.empty() ? "" : " on " + combine.node);
  if (StackStateEnded(state)) return "combine " + state;
  const size_t waiting_for = static_cast<size_t>(std::count_if(
      p.stacks.begin(), p.stacks.end(),
      [](const StackProgress& s) { return !s.is_combine && !StackStateEnded(s.state); }));
  if (waiting_for == 0) return "combine waiting to start";
  return "combine waiting for " + std::to_string(waiting_for) +
         (waiting_for == 1 ? " stack" : " stacks");
}

JobProgress SnapshotProgress(const SchedulerCore& core) {
  const JobSpec& job = core.job();
  JobProgress p;
  p.job = job.name;
  for (uint32_t s = 0; s < job.stacks.size(); ++s) {
    StackProgress sp;
    sp.name = job.stacks[s].is_combine ? std::string(kCombineName) : job.stacks[s].id;
    sp.is_combine = job.stacks[s].is_combine;
    sp.total = job.stacks[s].cards.size();
    sp.node = core.node_of(s);
    const auto& counts = core.counts(s);
    sp.done = counts.succeeded;
    p.failed += counts.failed;
    p.skipped += counts.skipped;
    const bool failed = counts.failed > 0, running = counts.running > 0;
    p.cards_done += sp.done;
    p.cards_total += sp.total;
    sp.state = failed                               ? "failed"
               : sp.done == sp.total                ? "done"
               : running                            ? "running"
               : core.finished_cards(s) == sp.total ? "skipped"
                                                    : "waiting";
    p.stacks.push_back(std::move(sp));
  }
  return p;
}

ProgressPrinter::ProgressPrinter(std::FILE* out) : out_(out), tty_(isatty(fileno(out)) == 1) {}

bool ProgressPrinter::Due(size_t stacks) const {
  const auto since = std::chrono::steady_clock::now() - last_draw_;
  if (tty_) return since >= std::chrono::milliseconds(100);
  return stacks <= kPlainPerStackLimit || since >= std::chrono::seconds(1);
}

void ProgressPrinter::Update(const JobProgress& p, bool final) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (tty_) {
    if (!final && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    for (size_t i = 0; i < lines_drawn_; ++i) std::fputs("\033[1A\033[2K", out_);
    lines_drawn_ = 0;
    std::fprintf(out_, "%s  %zu/%zu cards  %zu failed  %zu skipped  %.1fs\n", p.job.c_str(),
                 p.cards_done, p.cards_total, p.failed, p.skipped, elapsed);
    ++lines_drawn_;
    size_t shown = 0;
    // The combine is the last stack; its line is always shown, last.
    const StackProgress* combine =
        !p.stacks.empty() && p.stacks.back().is_combine ? &p.stacks.back() : nullptr;
    for (const auto& s : p.stacks) {
      if (shown == kMaxStackLines) break;
      if (s.is_combine) continue;
      if (!final && p.stacks.size() > kMaxStackLines && s.state != "running") continue;
      std::fprintf(out_, "  %-16s [%s] %zu/%zu %-8s %-8s %s\n", s.name.c_str(),
                   Bar(s.done, s.total, 20).c_str(), s.done, s.total, s.state.c_str(),
                   s.node.c_str(), ElapsedText(s).c_str());
      ++lines_drawn_;
      ++shown;
    }
    if (combine) {
      const std::string elapsed_text = ElapsedText(*combine);
      std::fprintf(out_, "  %s%s%s\n", CombineText(p, *combine).c_str(),
                   elapsed_text.empty() ? "" : "  ", elapsed_text.c_str());
      ++lines_drawn_;
    }
    std::fflush(out_);
    return;
  }
  // Plain mode: a line whenever a stack changes state (small jobs) or once a second (big ones).
  if (p.stacks.size() <= kPlainPerStackLimit) {
    last_state_.resize(p.stacks.size());
    for (size_t i = 0; i < p.stacks.size(); ++i) {
      const auto& s = p.stacks[i];
      if (s.is_combine) {
        std::string text = CombineText(p, s);
        if (text == last_state_[i]) continue;
        // Started and ended between two updates (one batch of events): still say where it ran.
        if (StackStateEnded(s.state) && !s.node.empty() &&
            !last_state_[i].starts_with("combine running")) {
          std::fprintf(out_, "[%7.2fs] combine running on %s\n", elapsed, s.node.c_str());
        }
        std::fprintf(out_, "[%7.2fs] %s\n", elapsed, text.c_str());
        last_state_[i] = std::move(text);
        continue;
      }
      std::string key = s.state + std::to_string(s.done);
      if (key == last_state_[i] || s.state == "waiting") continue;
      last_state_[i] = key;
      std::fprintf(out_, "[%7.2fs] %s %zu/%zu %s%s%s\n", elapsed, s.name.c_str(), s.done, s.total,
                   s.state.c_str(), s.node.empty() ? "" : " on ", s.node.c_str());
    }
  } else if (final || now - last_draw_ >= std::chrono::seconds(1)) {
    last_draw_ = now;
    std::fprintf(out_, "[%7.2fs] %s %zu/%zu cards, %zu failed, %zu skipped\n", elapsed,
                 p.job.c_str(), p.cards_done, p.cards_total, p.failed, p.skipped);
  }
  std::fflush(out_);
}

}  // namespace hollerith::cli
