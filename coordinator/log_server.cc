#include "coordinator/log_server.h"

#include <optional>

namespace hollerith::coordinator {
namespace {

constexpr size_t kLogChunk = 1 << 20;

bool Finished(const CardRecord& rec) {
  return rec.state != CardState::kPending && rec.state != CardState::kRunning;
}

std::optional<CardRef> FindCard(const JobSpec& spec, const std::string& name) {
  for (uint32_t s = 0; s < spec.stacks.size(); ++s) {
    for (uint32_t c = 0; c < spec.stacks[s].cards.size(); ++c) {
      if (spec.card_name({s, c}) == name) return CardRef{s, c};
    }
  }
  return std::nullopt;
}

}  // namespace

Status LogServer::Read(const Job& job, const std::string& card_name, bool follow,
                       std::shared_ptr<LogOutbox> outbox) {
  std::optional<CardRef> card = FindCard(job.core->job(), card_name);
  if (!card) {
    return Status::NotFound("job " + job.id + " has no card '" + card_name +
                            "' (expected STACK.CARD)");
  }
  const CardRecord& rec = job.core->record(*card);
  if (Finished(rec)) {
    Send(rec, *outbox);
  } else if (follow) {
    waiting_[job.id].push_back({*card, std::move(outbox)});
  } else {
    return Status::FailedPrecondition("card " + card_name +
                                      " has not finished yet (use -f to wait for it)");
  }
  return Status::Ok();
}

void LogServer::JobChanged(const Job& job) {
  auto it = waiting_.find(job.id);
  if (it == waiting_.end()) return;
  const bool ended = job.core->state() != JobState::kRunning;
  std::erase_if(it->second, [&](const Waiter& w) {
    const CardRecord& rec = job.core->record(w.card);
    if (!ended && !Finished(rec)) return false;
    Send(rec, *w.outbox);
    return true;
  });
  if (it->second.empty()) waiting_.erase(it);
}

size_t LogServer::waiters(const std::string& job_id) const {
  auto it = waiting_.find(job_id);
  return it == waiting_.end() ? 0 : it->second.size();
}

void LogServer::Send(const CardRecord& rec, LogOutbox& outbox) {
  auto send = [&](const std::string& stream, const std::string& text) {
    for (size_t off = 0; off < text.size(); off += kLogChunk) {
      v1::LogChunk chunk;
      chunk.set_stream(stream);
      chunk.set_data(text.substr(off, kLogChunk));
      chunk.set_lamport(clock_.now());
      outbox.Push(std::move(chunk));
    }
  };
  send("stdout", rec.out().stdout_text);
  send("stderr", rec.out().stderr_text);
  outbox.Close(Status::Ok());
}

}  // namespace hollerith::coordinator
