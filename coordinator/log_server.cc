#include "coordinator/log_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <system_error>

#include "common/base/hex.h"

namespace hollerith::coordinator {
namespace {

namespace fs = std::filesystem;

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

const char* StreamName(bool err) { return err ? "stderr" : "stdout"; }

}  // namespace

LogServer::LogServer(const LamportClock& clock, fs::path dir, WatchFn watch)
    : clock_(clock), dir_(std::move(dir)), watch_(std::move(watch)) {}

fs::path LogServer::UploadDir(const std::string& job_id) const {
  return dir_.empty() ? fs::path() : dir_ / HexEncode(job_id);
}

fs::path LogServer::PathOf(const std::string& job_id, CardRef card, bool err) const {
  if (dir_.empty()) return {};
  return UploadDir(job_id) /
         (std::to_string(card.stack) + "." + std::to_string(card.card) + "." + StreamName(err));
}

bool LogServer::UploadPending(const std::string& job_id, CardRef card) const {
  auto it = uploads_.find(job_id);
  if (it == uploads_.end()) return false;
  auto p = it->second.find({card.stack, card.card});
  return p != it->second.end() && p->second.remaining > 0;
}

void LogServer::Push(Follower& f, const std::string& card, bool err, std::string_view data) {
  for (size_t off = 0; off < data.size(); off += kLogChunk) {
    v1::LogChunk chunk;
    chunk.set_stream(StreamName(err));
    chunk.set_data(std::string(data.substr(off, kLogChunk)));
    chunk.set_card(card);
    chunk.set_lamport(clock_.now());
    f.outbox->Push(std::move(chunk));
  }
}

void LogServer::SendRest(const Job& job, Follower& f, CardRef card, bool err, Progress& p) {
  const std::string name = job.core->job().card_name(card);
  uint64_t& sent = p.sent[err ? 1 : 0];
  const fs::path file = PathOf(job.id, card, err);
  std::error_code ec;
  if (!file.empty() && fs::exists(file, ec)) {
    std::ifstream in(file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(sent));
    std::string buffer(kLogChunk, '\0');
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto n = static_cast<size_t>(in.gcount());
      if (n == 0) break;
      Push(f, name, err, std::string_view(buffer.data(), n));
      sent += n;
      p.any = true;
    }
    return;
  }
  const CardOutput& out = job.core->record(card).out();
  const std::string& text = err ? out.stderr_text : out.stdout_text;
  if (sent >= text.size()) return;
  Push(f, name, err, std::string_view(text).substr(sent));
  sent = text.size();
  p.any = true;
}

bool LogServer::EndCard(const Job& job, Follower& f, CardRef card, bool quiet) {
  if (UploadPending(job.id, card)) return false;
  Progress& p = f.progress[{card.stack, card.card}];
  SendRest(job, f, card, false, p);
  SendRest(job, f, card, true, p);
  if (p.any || !quiet) {
    const CardRecord& rec = job.core->record(card);
    v1::LogChunk end;
    end.set_card(job.core->job().card_name(card));
    end.set_card_ended(true);
    end.set_exit_code(rec.state == CardState::kSkipped ? -1 : rec.exit_code);
    end.set_state(CardStateName(rec.state));
    end.set_lamport(clock_.now());
    f.outbox->Push(std::move(end));
  }
  f.progress.erase({card.stack, card.card});
  return true;
}

Status LogServer::Read(Job& job, const std::string& card_name, bool follow,
                       std::shared_ptr<LogOutbox> outbox) {
  auto f = std::make_shared<Follower>();
  f->outbox = std::move(outbox);
  const JobSpec& spec = job.core->job();
  const bool running = job.core->state() == JobState::kRunning;
  if (card_name.empty()) {  // every card: what finished so far, then live until the job ends
    for (uint32_t s = 0; s < spec.stacks.size(); ++s) {
      for (uint32_t c = 0; c < spec.stacks[s].cards.size(); ++c) {
        if (!Finished(job.core->record({s, c}))) continue;
        if (!EndCard(job, *f, {s, c}, /*quiet=*/true)) f->deferred.insert({s, c});
      }
    }
    if (!running && f->deferred.empty()) {
      f->outbox->Close(Status::Ok());
      return Status::Ok();
    }
    Register(job, std::move(f));
    return Status::Ok();
  }
  std::optional<CardRef> card = FindCard(spec, card_name);
  if (!card) {
    return Status::NotFound("job " + job.id + " has no card '" + card_name +
                            "' (expected STACK.CARD)");
  }
  const bool finished = Finished(job.core->record(*card)) || !running;
  if (!finished && !follow) {
    return Status::FailedPrecondition("card " + card_name +
                                      " has not finished yet (use -f to follow it)");
  }
  f->card = *card;
  if (finished && EndCard(job, *f, *card, /*quiet=*/false)) {
    f->outbox->Close(Status::Ok());
    return Status::Ok();
  }
  Register(job, std::move(f));  // a card that runs, or whose full output is on its way
  return Status::Ok();
}

void LogServer::Register(Job& job, std::shared_ptr<Follower> f) {
  if (job.core->state() == JobState::kRunning) {
    f->watching = true;
    SetWatch(job, f->card ? f->card->stack : kWholeJob, +1, /*notify=*/true);
  }
  followers_[job.id].push_back(std::move(f));
}

void LogServer::SetWatch(Job& job, uint32_t stack, int delta, bool notify) {
  const uint32_t stacks = static_cast<uint32_t>(job.core->job().stacks.size());
  std::vector<bool> before;
  if (notify) {
    before.resize(stacks);
    for (uint32_t s = 0; s < stacks; ++s) before[s] = Watched(job.id, s);
  }
  if (stack == kWholeJob) {
    if ((job_watches_[job.id] += delta) <= 0) job_watches_.erase(job.id);
  } else {
    auto& per_stack = stack_watches_[job.id];
    if ((per_stack[stack] += delta) <= 0) per_stack.erase(stack);
    if (per_stack.empty()) stack_watches_.erase(job.id);
  }
  if (!notify) return;
  for (uint32_t s = 0; s < stacks; ++s) {
    if (stack != kWholeJob && s != stack) continue;
    // A new follower asks again even where output flows already: the worker then sends what the
    // running card wrote so far, which this follower has not seen (the others skip it by offset).
    if (delta > 0 || Watched(job.id, s) != before[s]) watch_(job, s, Watched(job.id, s));
  }
}

bool LogServer::Watched(const std::string& job_id, uint32_t stack) const {
  if (job_watches_.count(job_id)) return true;
  auto it = stack_watches_.find(job_id);
  return it != stack_watches_.end() && it->second.count(stack) > 0;
}

void LogServer::Drop(Job& job, const std::shared_ptr<Follower>& f) {
  auto it = followers_.find(job.id);
  if (it == followers_.end()) return;
  auto& list = it->second;
  auto pos = std::find(list.begin(), list.end(), f);
  if (pos == list.end()) return;
  if (f->watching) {
    // Once the job ended its workers forget its stacks: only the bookkeeping goes.
    SetWatch(job, f->card ? f->card->stack : kWholeJob, -1,
             /*notify=*/job.core->state() == JobState::kRunning);
  }
  f->outbox->Close(Status::Ok());
  list.erase(pos);
  if (list.empty()) followers_.erase(it);
}

void LogServer::Output(Job& job, const v1::OutputChunk& chunk) {
  auto it = followers_.find(job.id);
  if (it == followers_.end()) return;
  const CardRef card{chunk.card().stack(), chunk.card().card()};
  const std::string name = job.core->job().card_name(card);
  const int stream = chunk.stderr() ? 1 : 0;
  for (const auto& f : it->second) {
    if (f->card && *f->card != card) continue;
    Progress& p = f->progress[{card.stack, card.card}];
    if (std::make_pair(chunk.attempt(), chunk.try_no()) < std::make_pair(p.attempt, p.try_no)) {
      continue;  // an older run of the card
    }
    if (std::make_pair(chunk.attempt(), chunk.try_no()) > std::make_pair(p.attempt, p.try_no)) {
      p.attempt = chunk.attempt();  // the card runs again: its streams start over
      p.try_no = chunk.try_no();
      p.sent[0] = p.sent[1] = 0;
    }
    uint64_t& sent = p.sent[stream];
    const uint64_t end = chunk.offset() + chunk.data().size();
    if (end <= sent) continue;
    if (chunk.offset() > sent) {
      Push(*f, name, true,
           "[hollerith: " + std::to_string(chunk.offset() - sent) + " bytes of " +
               StreamName(chunk.stderr()) +
               " not shown live; `hollerith logs` has them all "
               "once the card ended]\n");
      sent = chunk.offset();
    }
    Push(*f, name, chunk.stderr(), std::string_view(chunk.data()).substr(sent - chunk.offset()));
    sent = end;
    p.any = true;
  }
  Settle(job);
}

void LogServer::CardFinished(Job& job, CardRef card) {
  auto it = followers_.find(job.id);
  if (it == followers_.end() || !Finished(job.core->record(card))) return;
  for (const auto& f : it->second) {
    if (f->card) continue;  // single-card followers end in Settle
    if (!EndCard(job, *f, card, /*quiet=*/true)) f->deferred.insert({card.stack, card.card});
  }
}

void LogServer::JobChanged(Job& job) {
  if (followers_.count(job.id)) Settle(job);
}

void LogServer::Settle(Job& job) {
  auto it = followers_.find(job.id);
  if (it == followers_.end()) return;
  const bool ended = job.core->state() != JobState::kRunning;
  std::vector<std::shared_ptr<Follower>> done;
  for (const auto& f : it->second) {
    if (!f->outbox->attached()) {  // its client went away
      done.push_back(f);
      continue;
    }
    std::erase_if(f->deferred, [&](const CardKey& k) {
      return EndCard(job, *f, {k.first, k.second}, /*quiet=*/true);
    });
    if (f->card) {
      if ((ended || Finished(job.core->record(*f->card))) && EndCard(job, *f, *f->card, false)) {
        done.push_back(f);
      }
    } else if (ended) {
      for (auto p = f->progress.begin(); p != f->progress.end();) {
        const CardKey k = (p++)->first;  // EndCard erases the entry
        if (!EndCard(job, *f, {k.first, k.second}, true)) f->deferred.insert(k);
      }
      if (f->deferred.empty()) done.push_back(f);
    }
  }
  for (const auto& f : done) Drop(job, f);
}

void LogServer::ExpectUploads(Job& job, CardRef card, const std::string& worker, uint32_t uploads) {
  if (dir_.empty() || uploads == 0) return;
  auto& per_card = uploads_[job.id];
  Pending& p = per_card[{card.stack, card.card}];
  p.worker = worker;
  p.remaining += static_cast<int>(uploads);  // an upload may have overtaken the report
  if (p.remaining <= 0) per_card.erase({card.stack, card.card});
  if (per_card.empty()) uploads_.erase(job.id);
}

void LogServer::Uploaded(Job& job, const v1::LogUpload& header, const fs::path& temp,
                         bool complete) {
  const CardRef card{header.card().stack(), header.card().card()};
  std::error_code ec;
  const JobSpec& spec = job.core->job();
  const bool valid = card.stack < spec.stacks.size() &&
                     card.card < spec.stacks[card.stack].cards.size() &&
                     header.attempt() == job.core->attempt(card.stack);
  if (complete && valid) {
    fs::rename(temp, PathOf(job.id, card, header.stderr()), ec);
    if (ec) spdlog::warn("job {}: cannot keep the output of a card: {}", job.id, ec.message());
  } else {
    fs::remove(temp, ec);
  }
  if (!valid) return;
  auto& per_card = uploads_[job.id];
  Pending& p = per_card[{card.stack, card.card}];
  if (--p.remaining != 0) return;  // more to come, or it overtook the finish report (< 0)
  per_card.erase({card.stack, card.card});
  if (per_card.empty()) uploads_.erase(job.id);
  Settle(job);
}

void LogServer::WorkerGone(std::map<std::string, std::unique_ptr<Job>>& jobs,
                           const std::string& worker) {
  std::vector<Job*> touched;
  for (auto it = uploads_.begin(); it != uploads_.end();) {
    const size_t before = it->second.size();
    std::erase_if(it->second, [&](const auto& entry) { return entry.second.worker == worker; });
    if (it->second.size() != before) {
      if (auto job = jobs.find(it->first); job != jobs.end()) touched.push_back(job->second.get());
    }
    it = it->second.empty() ? uploads_.erase(it) : std::next(it);
  }
  for (Job* job : touched) Settle(*job);
}

void LogServer::RemoveOthers(const std::set<std::string>& kept) {
  if (dir_.empty()) return;
  std::set<std::string> keep;
  for (const auto& id : kept) keep.insert(HexEncode(id));
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (keep.count(it->path().filename().string()) == 0) {
      std::error_code ignored;
      fs::remove_all(it->path(), ignored);
    }
  }
}

size_t LogServer::waiters(const std::string& job_id) const {
  auto it = followers_.find(job_id);
  return it == followers_.end() ? 0 : it->second.size();
}

void LogServer::Forget(const std::string& job_id) {
  if (auto it = followers_.find(job_id); it != followers_.end()) {
    for (const auto& f : it->second) f->outbox->Close(Status::Ok());
    followers_.erase(it);
  }
  stack_watches_.erase(job_id);
  job_watches_.erase(job_id);
  uploads_.erase(job_id);
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(UploadDir(job_id), ec);
  }
}

}  // namespace hollerith::coordinator
