#include "common/core/result_document.h"

namespace hollerith {

nlohmann::json ResultDocumentCard(const SchedulerCore& core, CardRef ref, const CacheNotes* notes) {
  const CardRecord& r = core.record(ref);
  nlohmann::json outputs = nlohmann::json::object();
  for (const auto& [path, digest] : r.out().outputs) outputs[path] = digest;
  nlohmann::json card = {{"state", CardStateName(r.state)},
                         {"exit_code", r.exit_code},
                         {"stdout", r.out().stdout_text},
                         {"stdout_truncated", r.out().stdout_truncated},
                         {"attempts", r.tries},
                         {"node", r.tries ? core.trace().nodes()[r.node] : ""},
                         {"duration_ms", r.duration_ms},
                         {"outputs", std::move(outputs)}};
  if (!r.out().error.empty()) card["error"] = r.out().error;
  if (!r.out().cached_from.empty()) card["cached_from"] = r.out().cached_from;
  if (notes) {
    if (auto it = notes->find(ref); it != notes->end()) card["cache"] = it->second;
  }
  return card;
}

nlohmann::json ResultDocument(const SchedulerCore& core, const CacheNotes* notes) {
  const JobSpec& job = core.job();
  nlohmann::json cards = nlohmann::json::object();
  for (uint32_t s = 0; s < job.stacks.size(); ++s) {
    if (job.stacks[s].is_template()) continue;
    for (uint32_t c = 0; c < job.stacks[s].cards.size(); ++c) {
      cards[job.card_name({s, c})] = ResultDocumentCard(core, {s, c}, notes);
    }
  }
  return {{"job", job.name},
          {"state", JobStateName(core.state())},
          {"reason", core.reason()},
          {"cards", std::move(cards)}};
}

}  // namespace hollerith
