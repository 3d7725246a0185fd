#include "tests/sim/sim_executor.h"

#include <asio/post.hpp>
#include <sstream>

namespace hollerith::sim {

bool ParseSimCard(const std::string& shell, SimCard* card) {
  std::istringstream in(shell);
  std::string word;
  return (in >> word) && word == "sim" &&
         (in >> card->job >> card->name >> card->exit_code >> card->out);
}

std::string SimCardCommand(const SimCard& card) {
  return "sim " + card.job + " " + card.name + " " + std::to_string(card.exit_code) + " " +
         card.out;
}

uint64_t SimExecutor::Run(const CardSpec& spec, const CardLaunch&, Done done) {
  const uint64_t handle = ++next_;
  SimCard card;
  if (!ParseSimCard(spec.shell, &card)) {
    card.name = spec.id;
    card.exit_code = 127;
    card.out = "not a simulated card";
  }
  ++truth_.cards_run;
  // Invariant: a card starts only after every card it depends on succeeded (somewhere).
  if (truth_.violation.empty()) {
    for (const std::string& dep : truth_.dependencies[card.job][card.name]) {
      if (!truth_.succeeded.count({card.job, dep})) {
        truth_.violation = "card " + card.name + " of job " + card.job + " started on " + node_ +
                           " before " + dep + " had succeeded anywhere";
        break;
      }
    }
  }
  running_[handle] = {std::move(card), std::move(done)};
  if (auto_complete_) asio::post(io_, [this, handle] { Complete(handle); });
  return handle;
}

void SimExecutor::Cancel(uint64_t handle) {
  auto it = running_.find(handle);
  if (it == running_.end()) return;
  CardResult r;
  r.exit_code = -1;
  r.error = "cancelled";
  asio::post(io_, [done = std::move(it->second.done), r] { done(r); });
  running_.erase(it);
}

void SimExecutor::Complete(uint64_t handle) {
  auto it = running_.find(handle);
  if (it == running_.end()) return;
  const SimCard& card = it->second.card;
  CardResult r;
  r.exit_code = card.exit_code;
  r.out.text = card.out + "\n";
  if (card.exit_code == 0) truth_.succeeded.insert({card.job, card.name});
  asio::post(io_, [done = std::move(it->second.done), r] { done(r); });
  running_.erase(it);
}

}  // namespace hollerith::sim
