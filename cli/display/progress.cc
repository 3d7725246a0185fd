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
  // In the stacks' order (a template's instances come last), so a stack keeps its line's place.
  for (uint32_t s = 0; s < job.stacks.size(); ++s) {
    if (job.stacks[s].is_template()) continue;  // its instances are shown instead
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
    // The combine's line is always shown, last.
    const auto combine_at = std::find_if(p.stacks.begin(), p.stacks.end(),
                                         [](const StackProgress& s) { return s.is_combine; });
    const StackProgress* combine = combine_at == p.stacks.end() ? nullptr : &*combine_at;
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
    for (const auto& s : p.stacks) {
      std::string& last = last_state_[s.is_combine ? std::string() : s.name];
      if (s.is_combine) {
        std::string text = CombineText(p, s);
        if (text == last) continue;
        // Started and ended between two updates (one batch of events): still say where it ran.
        if (StackStateEnded(s.state) && !s.node.empty() && !last.starts_with("combine running")) {
          std::fprintf(out_, "[%7.2fs] combine running on %s\n", elapsed, s.node.c_str());
        }
        std::fprintf(out_, "[%7.2fs] %s\n", elapsed, text.c_str());
        last = std::move(text);
        continue;
      }
      std::string key = s.state + std::to_string(s.done);
      if (key == last || s.state == "waiting" || s.state.empty()) continue;
      last = key;
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
