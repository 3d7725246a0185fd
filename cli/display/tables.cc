#include "cli/display/tables.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base/json_text.h"
#include "common/core/result_document.h"
#include "common/spec/resources.h"
#include "proto/wire.h"

namespace hollerith::cli {
namespace {

constexpr size_t kMaxCardRows = 200;

// The card table, filled a card at a time in the order to show, up to kMaxCardRows rows.
class CardTable {
 public:
  // `with_cache`: a CACHE column (some card of the job is cacheable).
  explicit CardTable(bool with_cache) {
    std::vector<std::string> head = {"CARD", "STATE", "EXIT", "ATTEMPTS", "NODE", "DURATION"};
    if (with_cache) head.push_back("CACHE");
    table_ = TextTable(std::move(head));
  }
  // False once the table is full.
  bool Add(const std::string& name, const nlohmann::json& card) {
    if (!card.is_object()) return true;
    if (rows_ == kMaxCardRows) return false;
    ++rows_;
    const std::string state = card.contains("cached_from") ? "cached" : card.value("state", "?");
    const bool ran = card.value("attempts", 0) > 0;
    std::vector<std::string> row = {
        name,
        state,
        ran ? std::to_string(card.value("exit_code", 0)) : "-",
        std::to_string(card.value("attempts", 0)),
        card.value("node", "").empty() ? "-" : card.value("node", ""),
        ran ? FormatDurationMs(card.value("duration_ms", int64_t{0})) : "-"};
    if (table_.columns() > row.size()) row.push_back(card.value("cache", "not cacheable"));
    table_.AddRow(std::move(row));
    return true;
  }
  // `how_to_list_all` is what to run to see every card, should some not fit.
  void Print(std::FILE* out, size_t cards, const std::string& how_to_list_all) const {
    table_.Print(out);
    if (cards > rows_) {
      std::fprintf(out, "... and %zu more cards (%s lists them all)\n", cards - rows_,
                   how_to_list_all.c_str());
    }
  }

 private:
  TextTable table_{{}};
  size_t rows_ = 0;
};

bool AnyCacheNote(const nlohmann::json& cards) {
  for (const auto& [name, card] : cards.items()) {
    if (card.is_object() && card.contains("cache")) return true;
  }
  return false;
}

}  // namespace

void TextTable::Print(std::FILE* out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    std::fprintf(out, "%s\n", line.c_str());
  }
}

std::string FormatDurationMs(int64_t ms) {
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(ms) / 1000.0);
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms / 1000 % 60));
  }
  return buf;
}

void PrintJobsTable(std::FILE* out, const std::vector<v1::JobStatus>& jobs) {
  if (jobs.empty()) {
    std::fprintf(out, "no jobs\n");
    return;
  }
  TextTable t({"JOB", "NAME", "STATE", "CARDS"});
  for (const auto& j : jobs) {
    t.AddRow({j.job_id(), j.name(), j.state(),
              std::to_string(j.cards_done()) + "/" + std::to_string(j.cards_total())});
  }
  t.Print(out);
}

void PrintWorkersTable(std::FILE* out, const std::vector<v1::WorkerInfo>& workers) {
  if (workers.empty()) {
    std::fprintf(out, "no workers connected\n");
    return;
  }
  TextTable t({"NAME", "LABELS", "SLOTS", "STACKS", "EPOCH", "VERSION", "CAPACITY"});
  for (const auto& w : workers) {
    std::string labels;
    for (const auto& kv : w.labels()) {
      labels += (labels.empty() ? "" : ",") + kv.key() + "=" + kv.value();
    }
    t.AddRow({w.name(), labels.empty() ? "-" : labels, std::to_string(w.slots()),
              std::to_string(w.stacks()), std::to_string(w.epoch()),
              w.version().empty() ? "-" : w.version(), ResourcesText(w.capacity())});
  }
  t.Print(out);
}

std::string ResourcesText(const v1::Resources& r) {
  auto parsed = wire::FromProto(r);
  const std::string text = parsed.ok() ? FormatResources(*parsed) : "";
  return text.empty() ? "-" : text;
}

void PrintTenantsTable(std::FILE* out, const v1::ListTenantsResponse& tenants) {
  if (tenants.tenants().empty()) {
    std::fprintf(out, "no tenants (no --tenants file and no job yet)\n");
    return;
  }
  TextTable t({"TENANT", "WEIGHT", "SHARE", "RUNNING", "IN USE", "PLACED", "WAITING", "QUOTA"});
  for (const auto& tenant : tenants.tenants()) {
    std::string quota;
    for (const auto& kind : tenant.quota_kinds()) {
      auto q = wire::FromProto(tenant.quota());
      quota += (quota.empty() ? "" : ",") + kind + "=" +
               (q.ok() ? FormatAmount(kind, AmountOf(*q, kind)) : "?");
    }
    if (tenant.max_stacks() > 0) {
      quota +=
          (quota.empty() ? "" : ",") + std::string("stacks=") + std::to_string(tenant.max_stacks());
    }
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%", tenant.share() * 100);
    t.AddRow({tenant.name(), std::to_string(tenant.weight()), share,
              std::to_string(tenant.running_stacks()), ResourcesText(tenant.in_use()),
              std::to_string(tenant.placed_stacks()) + ": " + ResourcesText(tenant.placed()),
              std::to_string(tenant.waiting_stacks()), quota.empty() ? "-" : quota});
  }
  t.Print(out);
  std::fprintf(out, "cluster: %s\n", ResourcesText(tenants.capacity()).c_str());
}

std::vector<std::string> VersionMismatchWarnings(const std::vector<v1::WorkerInfo>& workers,
                                                 const std::string& coordinator_version) {
  std::vector<std::string> lines;
  if (coordinator_version.empty()) return lines;
  for (const auto& w : workers) {
    if (w.version() == coordinator_version) continue;
    lines.push_back("warning: worker '" + w.name() + "' runs " +
                    (w.version().empty() ? "an unknown version" : w.version()) +
                    ", the coordinator " + coordinator_version);
  }
  return lines;
}

std::string JobSummaryLine(const v1::JobStatus& job) {
  std::string line = "job '" + job.name() + "' (" + job.job_id() + ") " + job.state();
  if (!job.reason().empty()) line += ": " + job.reason();
  return line;
}

void PrintJobStacks(std::FILE* out, const v1::JobStatus& job) {
  std::fprintf(out, "%s\n", JobSummaryLine(job).c_str());
  std::fprintf(out, "cards: %u/%u finished\n", job.cards_done(), job.cards_total());
  if (job.priority() != 0) std::fprintf(out, "priority: %d\n", job.priority());
  if (!job.tenant().empty() && job.tenant() != "default") {
    std::fprintf(out, "tenant: %s\n", job.tenant().c_str());
  }
  if (job.stacks().empty()) return;
  TextTable t({"STACK", "CARDS", "NODE", "STATE", ""});
  for (const auto& s : job.stacks()) {
    t.AddRow({s.name(), std::to_string(s.done()) + "/" + std::to_string(s.total()),
              s.node().empty() ? "-" : s.node(), s.state(),
              s.waiting().empty() || s.waiting().rfind("waiting", 0) == 0
                  ? s.waiting()
                  : "waiting: " + s.waiting()});
  }
  t.Print(out);
}

void PrintCardTable(std::FILE* out, const v1::JobStatus& job) {
  // nlohmann::json, not ordered_json: the ordered map's inserts are linear, quadratic over a job.
  const auto doc = nlohmann::json::parse(job.result_json(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("cards") ||
      !doc["cards"].is_object()) {
    std::fprintf(out, "(no per-card results for job %s: %u cards%s)\n", job.job_id().c_str(),
                 job.cards_total(), job.result_json().empty() ? ", too many to list" : "");
    return;
  }
  const auto& cards = doc["cards"];
  CardTable table(AnyCacheNote(cards));
  if (!job.card_order().empty()) {
    for (const std::string& name : job.card_order()) {
      const auto it = cards.find(name);
      if (it != cards.end() && !table.Add(name, *it)) break;
    }
  } else {
    // From a coordinator that does not send the order: the document's (alphabetical) one.
    for (const auto& [name, card] : cards.items()) {
      if (!table.Add(name, card)) break;
    }
  }
  table.Print(out, cards.size(), "`hollerith status " + job.job_id() + " --json`");
}

void PrintCardTable(std::FILE* out, const SchedulerCore& core, const CacheNotes* notes) {
  const JobSpec& job = core.job();
  CardTable table(notes && !notes->empty());
  bool full = false;
  for (uint32_t s : job.DisplayOrder()) {
    for (uint32_t c = 0; c < job.stacks[s].cards.size() && !full; ++c) {
      full = !table.Add(job.card_name({s, c}), ResultDocumentCard(core, {s, c}, notes));
    }
    if (full) break;
  }
  table.Print(out, job.card_count(), "--json");
}

std::string ResultDocumentText(const v1::JobStatus& job) {
  auto doc = nlohmann::json::parse(job.result_json(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    doc = {{"job_id", job.job_id()},         {"job", job.name()},
           {"state", job.state()},           {"reason", job.reason()},
           {"cards_done", job.cards_done()}, {"cards_total", job.cards_total()}};
  }
  // While it runs: why each stack that is not running waits (what `status JOB` prints).
  nlohmann::json waiting = nlohmann::json::object();
  for (const auto& stack : job.stacks()) {
    if (!stack.waiting().empty()) waiting[stack.name()] = stack.waiting();
  }
  if (!waiting.empty()) doc["waiting"] = std::move(waiting);
  return JsonText(doc, 2);
}

}  // namespace hollerith::cli
