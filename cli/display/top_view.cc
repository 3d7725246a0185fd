#include "cli/display/top_view.h"

#include <cstdio>
#include <ctime>

#include "cli/display/tables.h"

namespace hollerith::cli {
namespace {

// A table rendered into a string (TextTable prints to a FILE*).
std::string TableText(const TextTable& t) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  if (f == nullptr) return {};
  t.Print(f);
  std::fclose(f);
  std::string text(buf, len);
  std::free(buf);
  return text;
}

std::string Percent(uint32_t done, uint32_t total) {
  return total == 0 ? "-" : std::to_string(done * 100ull / total) + "%";
}

std::string ClockTime(int64_t wall_us) {
  const std::time_t secs = static_cast<std::time_t>(wall_us / 1000000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

}  // namespace

std::string RenderTop(const TopSnapshot& s, size_t max_rows) {
  uint32_t slots = 0, busy = 0;
  for (const auto& w : s.workers) {
    slots += w.slots();
    busy += w.running_cards();
  }
  size_t running = 0;
  for (const auto& j : s.jobs) running += j.state() == "running";
  std::string out = "hollerith top: " + s.coordinator +
                    (s.coordinator_version.empty() ? "" : " (" + s.coordinator_version + ")") +
                    "  " + ClockTime(s.now_wall_us) + "\n";
  out += std::to_string(s.workers.size()) + " workers, " + std::to_string(busy) + "/" +
         std::to_string(slots) + " slots busy, " + std::to_string(running) + " jobs running, " +
         std::to_string(s.jobs.size()) + " kept\n\n";

  if (s.workers.empty()) {
    out += "no workers connected\n";
  } else {
    TextTable t({"WORKER", "BUSY", "SLOTS", "STACKS", "LABELS"});
    for (const auto& w : s.workers) {
      std::string labels;
      for (const auto& kv : w.labels()) {
        labels += (labels.empty() ? "" : ",") + kv.key() + "=" + kv.value();
      }
      t.AddRow({w.name(), std::to_string(w.running_cards()), std::to_string(w.slots()),
                std::to_string(w.stacks()), labels.empty() ? "-" : labels});
    }
    out += TableText(t);
  }
  out += "\n";
  if (s.running_jobs.empty()) {
    out += "no job running\n";
    return out;
  }
  TextTable jobs({"JOB", "CARDS", "DONE", "AGE"});
  TextTable stacks({"JOB", "STACK", "NODE", "CARD"});
  size_t rows = 0, more = 0;
  for (const auto& j : s.running_jobs) {
    const int64_t age_ms = (s.now_wall_us - j.submitted_wall_us()) / 1000;
    jobs.AddRow({j.job_id(), std::to_string(j.cards_done()) + "/" + std::to_string(j.cards_total()),
                 Percent(j.cards_done(), j.cards_total()), FormatDurationMs(age_ms)});
    for (const auto& st : j.stacks()) {
      if (st.state() != "running") continue;
      if (rows == max_rows) {
        ++more;
        continue;
      }
      ++rows;
      stacks.AddRow({j.job_id(), st.name(), st.node().empty() ? "-" : st.node(),
                     std::to_string(st.done() + 1) + " of " + std::to_string(st.total())});
    }
  }
  out += TableText(jobs) + "\n";
  if (rows == 0) {
    out += "no stack running (waiting for placement or dependencies)\n";
  } else {
    out += TableText(stacks);
    if (more > 0) out += "... and " + std::to_string(more) + " more running stacks\n";
  }
  return out;
}

}  // namespace hollerith::cli
