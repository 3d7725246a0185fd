#include "coordinator/job.h"

#include "common/base/json_text.h"
#include "common/core/result_document.h"
#include "coordinator/placement.h"
#include "proto/wire.h"

namespace hollerith::coordinator {

void FillStackStatus(const Job& job, uint32_t s, v1::StackStatus* out) {
  const SchedulerCore& core = *job.core;
  const StackSpec& stack = core.job().stacks[s];
  v1::StackStatus& st = *out;
  st.set_name(stack.is_combine ? std::string(kCombineName) : stack.id);
  st.set_is_combine(stack.is_combine);
  const auto& counts = core.counts(s);
  const uint32_t done = static_cast<uint32_t>(counts.succeeded);
  const bool failed = counts.failed > 0, running = counts.running > 0, skipped = counts.skipped > 0;
  st.set_done(done);
  st.set_total(static_cast<uint32_t>(stack.cards.size()));
  st.set_node(core.node_of(s));
  auto waiting = job.waiting.find(s);
  if (waiting != job.waiting.end()) st.set_waiting(waiting->second);
  for (uint32_t t : core.WaitsForFanOuts(s)) {
    const FanOutSpec& fanout = *core.job().stacks[t].fanout;
    st.set_waiting("waiting: for the stacks of run-time matrix " + core.job().stacks[t].id +
                   ", made from " + core.job().card_name(fanout.source) + ":" + fanout.path);
  }
  st.set_state(failed                         ? "failed"
               : done == stack.cards.size()   ? "done"
               : skipped                      ? "skipped"
               : running                      ? "running"
               : waiting != job.waiting.end() ? "unplaced"
                                              : "waiting");
  // Placed, nothing running: if the stacks placed on its worker ask for more than the worker
  // has, it may be queued there behind them.
  if (st.state() == "waiting" && st.waiting().empty() && job.placement && !st.node().empty() &&
      core.state() == JobState::kRunning) {
    const std::string crowded =
        job.placement->Crowded(job.placement->IdOf(st.node()), stack.resources);
    if (!crowded.empty()) st.set_waiting("waiting: " + crowded);
  }
}

void FillJobStatus(const Job& job, StatusDetail detail, v1::JobStatus* out) {
  const SchedulerCore& core = *job.core;
  const JobSpec& spec = core.job();
  out->set_job_id(job.id);
  out->set_name(spec.name);
  out->set_state(JobStateName(core.state()));
  out->set_reason(core.reason());
  out->set_submitted_wall_us(job.submitted_wall_us);
  out->set_priority(spec.priority);
  out->set_tenant(job.tenant);
  out->set_cache(CacheModeName(job.cache_mode));
  uint32_t done = 0;
  for (uint32_t s = 0; s < spec.stacks.size(); ++s) done += core.finished_cards(s);
  out->set_cards_done(done);
  out->set_cards_total(static_cast<uint32_t>(spec.card_count()));
  if (detail == StatusDetail::kSummary) return;
  const std::vector<uint32_t> order = spec.DisplayOrder();
  for (uint32_t s : order) FillStackStatus(job, s, out->add_stacks());
  if (detail == StatusDetail::kStacksAndResults && spec.card_count() <= kResultJsonCardLimit) {
    nlohmann::json doc = ResultDocument(core, &job.cache_notes);
    doc["job_id"] = job.id;
    out->set_result_json(JsonText(doc));
    for (uint32_t s : order) {
      for (uint32_t c = 0; c < spec.stacks[s].cards.size(); ++c) {
        out->add_card_order(spec.card_name({s, c}));
      }
    }
  }
}

void FillJobGraph(const Job& job, v1::JobStatus* out) {
  const JobSpec& spec = job.core->job();
  if (spec.card_count() > kGraphCardLimit) return;
  // In index order (cards refer to each other by index). A run-time matrix template keeps its
  // place, without cards: it runs nothing (its instances are drawn).
  for (const StackSpec& stack : spec.stacks) {
    v1::StackDef* def = out->add_graph();
    if (stack.is_template()) {
      def->set_id(stack.id);
      continue;
    }
    wire::ToProto(stack, def);
    if (stack.is_combine) def->set_id(std::string(kCombineName));
    for (auto& card : *def->mutable_cards()) card.clear_env();  // values may be secrets
  }
}

}  // namespace hollerith::coordinator
