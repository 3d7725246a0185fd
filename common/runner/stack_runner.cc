#include "common/runner/stack_runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include <asio/post.hpp>
#include <fstream>

#include <spdlog/spdlog.h>

#include "common/base/asio_timers.h"
#include "common/runner/confined_path.h"

namespace hollerith {
namespace {

std::string DigestKey(CardRef from, const std::string& path) {
  return std::to_string(from.stack) + ":" + std::to_string(from.card) + ":" + path;
}

Status WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) return Status::Error("cannot write " + path.string());
  return Status::Ok();
}

std::string JoinIndices(const std::vector<int>& indices) {
  std::string text;
  for (int i : indices) {
    if (!text.empty()) text += ',';
    text += std::to_string(i);
  }
  return text;
}

}  // namespace

StackRunner::StackRunner(StackRunnerEnv env, std::string job,
                         std::shared_ptr<const StackSpec> stack, AssignStackMsg assign,
                         std::string workspace, const Callbacks& callbacks)
    : env_(env),
      job_(std::move(job)),
      spec_(std::move(stack)),
      assign_(std::move(assign)),
      workspace_(std::move(workspace)),
      callbacks_(callbacks),
      pending_(spec_->cards.size()) {
  vc_ = std::exchange(assign_.vc, {});  // a re-run goes on from the earlier attempts' clock
  for (uint32_t c = 0; c < spec_->cards.size(); ++c) {
    pending_[c].deps = CrossStackDependencies(spec_->cards[c], assign_.stack);
    pending_[c].released.assign(pending_[c].deps.size(), false);
  }
  for (CachedCard& hit : assign_.cached) {
    const uint32_t card = hit.card;
    if (card >= spec_->cards.size()) continue;
    if (!cached_) cached_ = std::make_unique<Cached>();
    cached_->hits.emplace(card, std::move(hit));
  }
  assign_.cached.clear();
  const bool runs_processes =
      std::any_of(spec_->cards.begin(), spec_->cards.end(),
                  [](const CardSpec& c) { return c.builtin == BuiltinKind::kNone; });
  if (runs_processes && !env_.resources.CanEverHold(spec_->resources)) {
    refusal_ = "this worker cannot hold the stack's resources (needs " +
               FormatResources(spec_->resources) + ", has " +
               FormatResources(env_.resources.capacity()) + ")";
  }
}

void StackRunner::Start() {
  // Refused up front, not when its first card's releases have come: it would only wait to fail.
  if (!refusal_.empty() && !spec_->cards.empty()) {
    BeginCard(0);
    return;
  }
  Advance();
}

void StackRunner::FailBeforeStart(uint32_t card, std::string error) {
  CardResult result;
  result.error = std::move(error);
  asio::post(env_.io, [self = shared_from_this(), card, result = std::move(result)]() mutable {
    self->OnCardDone(card, std::move(result));
  });
}

Status StackRunner::EnsureWorkspace() {
  // Created lazily: a stack of built-ins never touches the disk.
  if (workspace_ready_) return Status::Ok();
  const std::filesystem::path workspace = workspace_;
  if (Status s = env_.workspaces.Create(workspace); !s.ok()) return s;
  // The workspace is new and empty (no card has run in it): plain paths are safe here.
  const std::optional<FileOwner>& owner = env_.workspaces.owner();
  auto give = [&owner](const std::filesystem::path& p) {
    if (owner) (void)::lchown(p.c_str(), owner->uid, owner->gid);
  };
  for (const auto& r : assign_.results) {
    auto base = workspace / "results" / r.card_name;
    Status s = WriteFile(base.string() + ".stdout", r.stdout_text);
    if (s.ok()) s = WriteFile(base.string() + ".exit", std::to_string(r.exit_code) + "\n");
    if (!s.ok()) return s;
    give(base.string() + ".stdout");
    give(base.string() + ".exit");
  }
  if (!assign_.results.empty()) give(workspace / "results");
  workspace_ready_ = true;
  return Status::Ok();
}

void StackRunner::OnRelease(const ReleaseMsg& msg, bool start) {
  if (msg.attempt != assign_.attempt || msg.to.card >= pending_.size()) return;
  Pending& p = pending_[msg.to.card];
  // A packed release (also_from) counts each of its cards; its clock is theirs merged.
  bool count_clock = false, any_new = false;
  auto take = [&](const CardRef& from) {
    auto it = std::lower_bound(p.deps.begin(), p.deps.end(), from);
    if (it == p.deps.end() || *it != from) return;  // not a dependency of this card
    const size_t i = static_cast<size_t>(it - p.deps.begin());
    if (p.released[i]) {
      // Delivered again (a coordinator that restarted tells a claimed stack what it may have
      // missed). If it was made anew, after a re-run of its card, its clock is the one the
      // record's proof names: a card that has not started yet counts it too (the simulator,
      // seed 536084: the first release's run was lost with the coordinator that sent it).
      const bool started = msg.to.card < next_card_ || (busy_ && msg.to.card == next_card_);
      count_clock |= !started;
      return;
    }
    p.released[i] = true;
    ++p.released_count;
    count_clock = any_new = true;
  };
  take(msg.from);
  for (const CardRef& from : msg.also_from) take(from);
  if (count_clock)
    p.clocks.insert(p.clocks.end(), msg.vc.entries().begin(), msg.vc.entries().end());
  if (!any_new) return;
  for (const auto& [path, digest] : msg.outputs)
    p.digests.emplace_back(DigestKey(msg.from, path), digest);
  if (start && !busy_ && msg.to.card == next_card_) Advance();
}

void StackRunner::OnCacheHit(const CacheHitMsg& msg) {
  if (msg.attempt != assign_.attempt || msg.hit.card >= spec_->cards.size() || ended_) return;
  if (msg.hit.card < next_card_ || (busy_ && msg.hit.card == next_card_)) return;  // too late
  if (!cached_) cached_ = std::make_unique<Cached>();
  cached_->hits.insert_or_assign(msg.hit.card, msg.hit);
}

void StackRunner::OnRetry(const RetryMsg& msg) {
  if (msg.attempt != assign_.attempt || msg.card.card != next_card_ || ended_) return;
  try_no_ = msg.next_try;
  retry_timer_ = env_.timers ? env_.timers->CreateTimer() : AsioTimerFactory(env_.io).CreateTimer();
  std::weak_ptr<StackRunner> weak = weak_from_this();
  uint32_t card = next_card_;
  retry_timer_->Arm(msg.delay, [weak, card] {
    auto self = weak.lock();
    if (!self || self->ended_) return;
    if (self->skip_from_ <= card) {
      self->End();
      return;
    }
    self->BeginCard(card);
  });
}

void StackRunner::OnSkip(const SkipMsg& msg) {
  if (msg.attempt != assign_.attempt || ended_) return;
  skip_from_ = std::min(skip_from_, msg.from_card);
  if (running_handle_ && next_card_ >= skip_from_) {
    env_.executor.Cancel(*running_handle_);
    return;  // OnCardDone reports and ends
  }
  if (retry_timer_ && next_card_ >= skip_from_) retry_timer_->Cancel();
  if (next_card_ >= skip_from_ && !running_handle_) {
    busy_ = false;
    End();
  } else if (!busy_) {
    Advance();
  }
}

void StackRunner::Advance() {
  if (ended_ || busy_) return;
  if (next_card_ >= spec_->cards.size() || next_card_ >= skip_from_) {
    End();
    return;
  }
  if (!pending_[next_card_].ready()) return;  // waits for releases
  try_no_ = 1;
  BeginCard(next_card_);
}

void StackRunner::BeginCard(uint32_t card) {
  busy_ = true;
  if (!refusal_.empty()) {  // also a retry of the refused card: it cannot fit any better now
    FailBeforeStart(card, refusal_);
    return;
  }
  if (TakeCacheHit(card)) return;
  auto self = shared_from_this();
  const CardSpec& card_spec = spec_->cards[card];
  // Inputs are fetched into the workspace while the card waits for its resources; otherwise the
  // workspace is made at launch, so stacks queued behind the pool do not each hold a directory.
  if (!card_spec.inputs.empty() || owes_files()) {
    if (Status s = EnsureWorkspace(); !s.ok()) {
      FailBeforeStart(card, s.message());
      return;
    }
  }
  auto fetched = [self, card](Status s) {
    if (self->ended_) return;
    if (!s.ok()) {
      CardResult result;
      result.error = s.message();
      self->OnCardDone(card, result);
      return;
    }
    self->RunCard(card);
  };
  if (!owes_files()) {
    FetchInputs(card, 0, std::move(fetched));
    return;
  }
  RestoreOwed(0, [self, card, fetched = std::move(fetched)](Status s) mutable {
    if (self->ended_) return;
    if (!s.ok()) {
      fetched(std::move(s));
      return;
    }
    self->cached_->owed.clear();
    self->FetchInputs(card, 0, std::move(fetched));
  });
}

bool StackRunner::TakeCacheHit(uint32_t card) {
  if (!cached_ || try_no_ != 1) return false;
  auto hit = cached_->hits.find(card);
  if (hit == cached_->hits.end()) return false;
  const CachedCard cached = std::move(hit->second);
  cached_->hits.erase(hit);
  // What the card would have left in the workspace: its inputs, then its declared outputs (the
  // entry's digests of them, whatever else it lists). Without all of them, the card runs.
  const CardSpec& spec = spec_->cards[card];
  std::vector<std::pair<std::string, std::string>> files;
  for (const InputSpec& in : spec.inputs) {
    const std::string key = DigestKey(in.from, in.path);
    for (const auto& [k, digest] : pending_[card].digests) {
      if (k == key) files.emplace_back(in.dest, digest);
    }
  }
  for (const std::string& output : spec.outputs) {
    for (const auto& [path, digest] : cached.outputs) {
      if (path == output) files.emplace_back(path, digest);
    }
  }
  if (files.size() != spec.inputs.size() + spec.outputs.size()) {
    spdlog::warn("card {} runs: its cached result lacks a file", spec.id);
    return false;
  }
  // Not copied now: only if a later card of the stack runs (RestoreOwed). A stack whose cards
  // all come from the cache touches no disk.
  cached_->owed.insert(cached_->owed.end(), files.begin(), files.end());
  ReportCached(card, cached);
  return true;
}

void StackRunner::RestoreOwed(size_t next, std::function<void(Status)> done) {
  if (next >= cached_->owed.size()) {
    done(Status::Ok());
    return;
  }
  const auto& [dest, digest] = cached_->owed[next];
  FetchInto(dest, digest,
            [self = shared_from_this(), next, done = std::move(done)](Status s) mutable {
              if (!s.ok()) {
                done(Status::Error(s.code(), "cannot restore " + s.message() +
                                                 " as a cached card of the stack left it"));
                return;
              }
              self->RestoreOwed(next + 1, std::move(done));
            });
}

void StackRunner::RunCard(uint32_t card) {
  if (spec_->cards[card].builtin != BuiltinKind::kNone) {
    Launch(card);
    return;
  }
  auto self = shared_from_this();
  env_.resources.Acquire(
      spec_->resources, assign_.priority, assign_.tenant, assign_.tenant_weight,
      [self, card](ResourceGrant grant) {
        self->last_gpus_ = grant.gpus;
        self->grant_ = std::move(grant);
        self->Launch(card);
      },
      last_gpus_);
}

void StackRunner::ReportCached(uint32_t card, const CachedCard& hit) {
  if (card >= skip_from_) {
    busy_ = false;
    End();
    return;
  }
  ReportStarted(card);
  auto msg = std::make_shared<CardFinishedMsg>();
  msg->card = {assign_.stack, card};
  msg->attempt = assign_.attempt;
  msg->try_no = try_no_;
  msg->node = env_.node;
  msg->succeeded = true;
  msg->exit_code = hit.exit_code;
  msg->stdout_text = hit.stdout_text;
  msg->stdout_truncated = hit.stdout_truncated;
  msg->outputs = hit.outputs;
  msg->cached_from = hit.from_job;
  Report(card, msg);
}

void StackRunner::FetchInputs(uint32_t card, size_t next, std::function<void(Status)> done) {
  const CardSpec& spec = spec_->cards[card];
  if (next >= spec.inputs.size()) {
    done(Status::Ok());
    return;
  }
  const InputSpec& in = spec.inputs[next];
  const std::string key = DigestKey(in.from, in.path);
  std::string digest;
  for (const auto& [k, d] : pending_[card].digests) {
    if (k == key) digest = d;
  }
  if (digest.empty()) {
    done(Status::Error("input " + in.path + " was not published by its producer"));
    return;
  }
  auto self = shared_from_this();
  FetchInto(in.dest, digest, [self, card, next, done = std::move(done)](Status s) mutable {
    if (!s.ok()) {
      done(Status::Error(s.code(), "input " + s.message()));
      return;
    }
    self->FetchInputs(card, next + 1, std::move(done));
  });
}

void StackRunner::FetchInto(const std::string& dest, const std::string& digest,
                            std::function<void(Status)> done) {
  // Earlier cards of the stack ran in this workspace: the directory the file goes to is reached
  // without following links they may have left, and the fetch writes through that descriptor.
  const std::optional<FileOwner> owner = env_.workspaces.owner();
  std::string leaf;
  Result<UniqueFd> workspace = OpenDirectory(workspace_);
  Result<UniqueFd> dir = workspace.ok() ? OpenParentBeneath(workspace->get(), dest, &leaf, owner)
                                        : std::move(workspace);
  if (!dir.ok()) {
    done(Status::Error(dest + " refused: " + dir.message()));
    return;
  }
  auto held = std::make_shared<UniqueFd>(std::move(*dir));
  env_.artifacts.Fetch(digest, FdPath(held->get()) / leaf,
                       [held, leaf, owner, done = std::move(done)](Status s) mutable {
                         if (s.ok() && owner) {
                           (void)::fchownat(held->get(), leaf.c_str(), owner->uid, owner->gid,
                                            AT_SYMLINK_NOFOLLOW);
                         }
                         done(std::move(s));
                       });
}

void StackRunner::ReleaseGrant() {
  if (!grant_) return;
  env_.resources.Release(*grant_);
  grant_.reset();
}

void StackRunner::Launch(uint32_t card) {
  const CardSpec& spec = spec_->cards[card];
  const bool runs_process = spec.builtin == BuiltinKind::kNone;
  if (ended_ || card >= skip_from_) {
    ReleaseGrant();
    busy_ = false;
    End();
    return;
  }
  if (runs_process || !spec.outputs.empty()) {
    if (Status s = EnsureWorkspace(); !s.ok()) {
      ReleaseGrant();
      FailBeforeStart(card, s.message());
      return;
    }
  }
  ReportStarted(card);

  CardLaunch launch;
  launch.workspace = workspace_;
  // Only this much goes into the result; past it the whole stream is in a spill file, which a
  // worker uploads (the full output `hollerith logs` serves).
  launch.capture_limit = kResultStdoutBound;
  // What the stack asked to hold is also what each card may use (unless its own limits say).
  launch.memory_request = spec_->resources.memory_bytes;
  if (runs_process && env_.resources.capacity().Named(kGpuResource) > 0) {
    // The devices of this card's grant, as CUDA and the card's own scripts read them.
    const std::string gpus = JoinIndices(grant_ ? grant_->gpus : std::vector<int>{});
    launch.extra_env = {{"HOLLERITH_GPUS", gpus}, {"CUDA_VISIBLE_DEVICES", gpus}};
  }
  if (callbacks_.output) {
    launch.on_output = [weak = weak_from_this(), card, try_no = try_no_](bool err, uint64_t offset,
                                                                         std::string_view data) {
      auto self = weak.lock();
      if (!self || self->ended_) return;
      self->callbacks_.output(
          *self, {{self->assign_.stack, card}, self->assign_.attempt, try_no, err, offset, data});
    };
  }
  auto self = shared_from_this();
  running_handle_ = env_.executor.Run(spec, launch, [self, card](CardResult result) {
    self->ReleaseGrant();
    self->running_handle_.reset();
    self->OnCardDone(card, std::move(result));
  });
}

void StackRunner::ReportStarted(uint32_t card) {
  if (!pending_[card].clocks.empty()) {
    vc_.Merge(VectorClock(std::exchange(pending_[card].clocks, {})));  // sorts and merges once
  }
  vc_.Tick(assign_.stack);
  CardStartedMsg started{{assign_.stack, card}, assign_.attempt,        try_no_, env_.node, vc_,
                         env_.clock.Tick(),     env_.time->WallMicros()};
  if (callbacks_.started) callbacks_.started(*this, started);
}

std::shared_ptr<CardFinishedMsg> StackRunner::FinishedMsg(uint32_t card, const CardResult& result) {
  auto msg = std::make_shared<CardFinishedMsg>();
  msg->card = {assign_.stack, card};
  msg->attempt = assign_.attempt;
  msg->try_no = try_no_;
  msg->node = env_.node;
  msg->succeeded = result.succeeded();
  msg->exit_code = result.exit_code;
  msg->error = result.error;
  msg->stdout_text = result.out.text.substr(0, kResultStdoutBound);
  msg->stdout_truncated = result.out.truncated || result.out.text.size() > kResultStdoutBound;
  msg->stderr_text = result.err.text.substr(0, kResultStdoutBound);
  msg->duration_ms = result.duration.count();
  msg->spawn_us = result.spawn.count();
  msg->stdout_file = result.out.spill_path;
  msg->stderr_file = result.err.spill_path;
  return msg;
}

void StackRunner::OnCardDone(uint32_t card, CardResult result) {
  if (ended_) return;
  auto msg = FinishedMsg(card, result);
  if (msg->succeeded && !spec_->cards[card].outputs.empty()) {
    PublishOutputs(card, 0, msg);
  } else {
    Report(card, msg);
  }
}

void StackRunner::PublishOutputs(uint32_t card, size_t next, std::shared_ptr<CardFinishedMsg> msg) {
  const auto& outputs = spec_->cards[card].outputs;
  if (next >= outputs.size()) {
    Report(card, msg);
    return;
  }
  // The card may have left a link where it declared an output (to /etc/shadow, say): the file is
  // opened beneath the workspace without following any, and published through that descriptor.
  Result<UniqueFd> workspace = OpenDirectory(workspace_);
  Result<UniqueFd> opened =
      workspace.ok() ? OpenOutputBeneath(workspace->get(), outputs[next], env_.workspaces.owner())
                     : std::move(workspace);
  if (!opened.ok()) {
    const bool missing = errno == ENOENT;
    msg->succeeded = false;
    msg->error = missing ? "declared output " + outputs[next] + " was not produced"
                         : "declared output " + outputs[next] + " refused: " + opened.message();
    Report(card, msg);
    return;
  }
  auto held = std::make_shared<UniqueFd>(std::move(*opened));
  auto self = shared_from_this();
  env_.artifacts.Publish(
      FdPath(held->get()), [self, card, next, msg, held](Result<std::string> digest) {
        if (self->ended_) return;
        if (!digest.ok()) {
          msg->succeeded = false;
          msg->error = "cannot publish output " + self->spec_->cards[card].outputs[next] + ": " +
                       digest.message();
          self->Report(card, msg);
          return;
        }
        msg->outputs.emplace_back(self->spec_->cards[card].outputs[next], *digest);
        self->PublishOutputs(card, next + 1, msg);
      });
}

void StackRunner::Report(uint32_t card, std::shared_ptr<CardFinishedMsg> msg) {
  vc_.Tick(assign_.stack);
  msg->vc = vc_;
  msg->lamport = env_.clock.Tick();
  msg->wall_us = env_.time->WallMicros();
  const bool succeeded = msg->succeeded;
  const bool may_retry = try_no_ <= static_cast<uint32_t>(spec_->cards[card].retries);
  if (callbacks_.finished) callbacks_.finished(*this, *msg);
  if (ended_) return;  // the callback may have torn the job down
  if (succeeded) {
    busy_ = false;
    ++next_card_;
    auto self = shared_from_this();
    asio::post(env_.io, [self] { self->Advance(); });
  } else if (!may_retry || card >= skip_from_) {
    busy_ = false;
    End();
  }
  // else: busy until the core's RetryMsg (or a SkipMsg) arrives.
}

bool StackRunner::RunningOutput(bool err, size_t max, std::string* data, CardOutputPiece* piece) {
  if (!running_handle_ || ended_) return false;
  size_t total = 0;
  if (!env_.executor.ReadOutput(*running_handle_, err, 0, 0, data, &total)) return false;
  const size_t from = total > max ? total - max : 0;
  if (!env_.executor.ReadOutput(*running_handle_, err, from, max, data, &total)) return false;
  *piece = {{assign_.stack, next_card_}, assign_.attempt, try_no_, err, from, *data};
  return true;
}

void StackRunner::End() {
  if (ended_) return;
  ended_ = true;
  if (retry_timer_) retry_timer_->Cancel();
  if (callbacks_.ended) callbacks_.ended(*this);
}

}  // namespace hollerith
