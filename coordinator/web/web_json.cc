#include "coordinator/web/web_json.h"

#include <algorithm>

#include "common/spec/job.h"

namespace hollerith::web {

namespace {

nlohmann::json StackStatusJson(const v1::StackStatus& s) {
  return {{"name", s.name()},      {"state", s.state()}, {"node", s.node()},
          {"done", s.done()},      {"total", s.total()}, {"is_combine", s.is_combine()},
          {"waiting", s.waiting()}};
}

// A card's name as the job's events and result name it: "STACK.CARD", or the combine stage's own.
std::string CardName(const v1::StackDef& stack, const v1::CardDef& card) {
  return stack.is_combine() ? std::string(kCombineName) : stack.id() + "." + card.id();
}

// The name of a reference into the graph, or "" when it points nowhere.
std::string RefName(const v1::JobStatus& job, const v1::CardRef& ref) {
  if (ref.stack() >= static_cast<uint32_t>(job.graph_size())) return "";
  const v1::StackDef& stack = job.graph(static_cast<int>(ref.stack()));
  if (ref.card() >= static_cast<uint32_t>(stack.cards_size())) return "";
  return CardName(stack, stack.cards(static_cast<int>(ref.card())));
}

std::string RunText(const v1::CardDef& card) {
  if (card.builtin() == v1::BUILTIN_NOOP) return "builtin: noop";
  if (card.builtin() == v1::BUILTIN_SLEEP) {
    return "builtin: sleep " + std::to_string(card.sleep_ms()) + "ms";
  }
  if (!card.shell().empty()) return card.shell();
  std::string text;
  for (const std::string& arg : card.argv()) text += (text.empty() ? "" : " ") + arg;
  return text;
}

nlohmann::json GraphJson(const v1::JobStatus& job) {
  if (job.graph_size() == 0) return nullptr;
  nlohmann::json stacks = nlohmann::json::array();
  for (const v1::StackDef& stack : job.graph()) {
    if (stack.cards().empty()) continue;  // a run-time matrix template: its instances are drawn
    nlohmann::json cards = nlohmann::json::array();
    for (const v1::CardDef& card : stack.cards()) {
      nlohmann::json after = nlohmann::json::array(), inputs = nlohmann::json::array();
      for (const v1::CardRef& ref : card.after()) after.push_back(RefName(job, ref));
      for (const v1::InputDef& in : card.inputs()) {
        inputs.push_back({{"from", RefName(job, in.from())}, {"path", in.path()}});
      }
      cards.push_back({{"id", card.id()},
                       {"name", CardName(stack, card)},
                       {"run", RunText(card)},
                       {"after", std::move(after)},
                       {"inputs", std::move(inputs)}});
    }
    stacks.push_back(
        {{"id", stack.id()}, {"is_combine", stack.is_combine()}, {"cards", std::move(cards)}});
  }
  return stacks;
}

// The result document's cards without their stdout.
nlohmann::json CardsJson(const v1::JobStatus& job) {
  nlohmann::json cards = nlohmann::json::object();
  if (job.result_json().empty()) return cards;
  nlohmann::json doc =
      nlohmann::json::parse(job.result_json(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc["cards"].is_object()) return cards;
  for (auto& [name, card] : doc["cards"].items()) {
    card.erase("stdout");
    card.erase("outputs");
    cards[name] = std::move(card);
  }
  return cards;
}

}  // namespace

nlohmann::json JobSummaryJson(const v1::JobStatus& job) {
  return {{"id", job.job_id()},
          {"name", job.name()},
          {"state", job.state()},
          {"reason", job.reason()},
          {"cards_done", job.cards_done()},
          {"cards_total", job.cards_total()},
          {"submitted_wall_us", job.submitted_wall_us()},
          {"priority", job.priority()},
          {"tenant", job.tenant()}};
}

nlohmann::json JobListJson(const std::vector<v1::JobStatus>& jobs) {
  std::vector<const v1::JobStatus*> order;
  for (const auto& j : jobs) order.push_back(&j);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return a->submitted_wall_us() > b->submitted_wall_us();
  });
  nlohmann::json list = nlohmann::json::array();
  for (const auto* j : order) list.push_back(JobSummaryJson(*j));
  return {{"jobs", std::move(list)}};
}

nlohmann::json JobDetailJson(const v1::JobStatus& job) {
  nlohmann::json out = JobSummaryJson(job);
  nlohmann::json stacks = nlohmann::json::array();
  for (const auto& s : job.stacks()) stacks.push_back(StackStatusJson(s));
  out["stacks"] = std::move(stacks);
  out["graph"] = GraphJson(job);
  out["cards"] = CardsJson(job);
  return out;
}

nlohmann::json EventJson(const v1::JobEvent& e) {
  nlohmann::json out = {
      {"lamport", e.lamport()},     {"kind", e.kind()},     {"stack", e.stack()},
      {"card", e.card()},           {"node", e.node()},     {"attempt", e.attempt()},
      {"exit_code", e.exit_code()}, {"detail", e.detail()}, {"wall_us", e.wall_us()}};
  if (!e.job_state().empty()) out["job_state"] = e.job_state();
  if (e.has_stack_status()) out["stack_status"] = StackStatusJson(e.stack_status());
  return out;
}

nlohmann::json WorkerListJson(const std::vector<v1::WorkerInfo>& workers) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& w : workers) {
    list.push_back({{"name", w.name()},
                    {"slots", w.slots()},
                    {"stacks", w.stacks()},
                    {"version", w.version()}});
  }
  return {{"workers", std::move(list)}};
}

}  // namespace hollerith::web
