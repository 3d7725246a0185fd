#include "common/local/local_run.h"

#include <algorithm>
#include <asio/post.hpp>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/runner/node_capacity.h"
#include "common/spec/fanout.h"

namespace hollerith {
namespace {

constexpr const char* kLocalNode = "local";

size_t DefaultJobs(size_t jobs) {
  if (jobs > 0) return jobs;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : n;
}

// The machine's cores (--jobs) and memory, raised to the largest request of any stack where the
// machine has less (a gpu it lacks, more cpu than -j): a local run tries the job, not the cluster,
// so it runs such a stack alone rather than refusing it.
Resources LocalCapacity(const JobSpec& job, size_t jobs) {
  Resources capacity = DetectedCapacity(jobs);
  for (const StackSpec& stack : job.stacks) {
    const Resources& r = stack.resources;
    capacity.cpu_milli = std::max(capacity.cpu_milli, r.cpu_milli);
    capacity.memory_bytes = std::max(capacity.memory_bytes, r.memory_bytes);
    for (const auto& [name, amount] : r.named) {
      capacity.SetNamed(name, std::max(capacity.Named(name), amount));
    }
  }
  return capacity;
}

}  // namespace

LocalRun::LocalRun(asio::io_context& io, std::shared_ptr<const JobSpec> job,
                   LocalRunOptions options, CardExecutor* executor)
    : io_(io),
      options_(std::move(options)),
      core_(std::move(job), clock_, SystemTime(), kLocalNode, options_.retry),
      own_executor_(executor ? nullptr : std::make_unique<ProcessCardRunner>(io, options_.sandbox)),
      executor_(executor ? executor : own_executor_.get()),
      store_(options_.workdir / ".artifacts"),
      artifacts_(io, store_),
      slots_(io, LocalCapacity(core_.job(), DefaultJobs(options_.jobs))),
      workspaces_(options_.workdir, 64, options_.sandbox.user.owner()),
      cache_(options_.cache_entries, options_.cache_unavailable, &store_,
             options_.cache_store ? options_.cache_store : &store_),
      cache_scope_{"local", options_.job_id, core_.job().name, options_.cache_mode} {
  // One process, one Lamport clock: core and node share it (messages still carry it).
  StackHost::Upward up;
  up.started = [this](const std::string&, const CardStartedMsg& m) {
    asio::post(io_, [this, m] {
      if (core_.CardStarted(m)) Drain();
    });
  };
  up.finished = [this](const std::string&, const CardFinishedMsg& m) {
    asio::post(io_, [this, m] {
      if (!core_.CardFinished(m)) return;
      if (m.succeeded && m.cached_from.empty()) cache_.Record(cache_scope_, core_, m.card);
      Drain();
    });
  };
  host_ = std::make_unique<StackHost>(
      StackRunnerEnv{io_, kLocalNode, clock_, *executor_, artifacts_, slots_, workspaces_},
      options_.workdir, std::move(up));
}

void LocalRun::Start(std::function<void()> done) {
  done_ = std::move(done);
  core_.Start();
  Drain();
}

void LocalRun::Drain() {
  if (options_.on_event) options_.on_event(core_);
  // Carrying out an action can produce more (placement produces an assignment and releases).
  for (auto actions = core_.TakeActions(); !actions.empty(); actions = core_.TakeActions()) {
    for (auto& action : actions) {
      if (auto* place = std::get_if<PlaceStackAction>(&action)) {
        core_.StackPlaced(place->stack, place->attempt, kLocalNode);
      } else if (auto* assign = std::get_if<AssignStackMsg>(&action)) {
        auto job = core_.job_ptr();
        std::shared_ptr<const StackSpec> stack(job, &job->stacks[assign->stack]);
        assign->cached = std::exchange(hits_for_assign_, {});
        asio::post(io_, [this, stack, msg = std::move(*assign)] {
          host_->Assign(options_.job_id, stack, msg);
        });
      } else if (auto* release = std::get_if<ReleaseMsg>(&action)) {
        asio::post(io_,
                   [this, msg = std::move(*release)] { host_->Release(options_.job_id, msg); });
      } else if (auto* query = std::get_if<CacheQueryAction>(&action)) {
        std::optional<CachedCard> hit =
            cache_.Lookup(cache_scope_, core_, *query, &cache_notes_[query->card]);
        if (!hit) continue;
        if (query->for_assign) {
          hits_for_assign_.push_back(std::move(*hit));
        } else {
          CacheHitMsg msg{query->card.stack, query->attempt, std::move(*hit), clock_.now()};
          asio::post(io_, [this, msg = std::move(msg)] { host_->CacheHit(options_.job_id, msg); });
        }
      } else if (auto* retry = std::get_if<RetryMsg>(&action)) {
        asio::post(io_, [this, msg = *retry] { host_->Retry(options_.job_id, msg); });
      } else if (auto* skip = std::get_if<SkipMsg>(&action)) {
        asio::post(io_, [this, msg = std::move(*skip)] { host_->Skip(options_.job_id, msg); });
      } else if (auto* fanout = std::get_if<FanOutAction>(&action)) {
        ListFanOut(*fanout);
      } else if (std::get_if<JobFinishedAction>(&action)) {
        if (options_.cache_entries) {
          if (Status s = options_.cache_entries->Flush(); !s.ok()) {
            spdlog::warn("result cache: {}", s.message());
          }
        }
        if (done_) asio::post(io_, std::exchange(done_, nullptr));
      }
    }
  }
}

void LocalRun::ListFanOut(const FanOutAction& fanout) {
  // The list is small (kMaxFanOutBytes at most) and in the local store: read here and now.
  const auto list =
      ReadFanOutList(core_.job(), fanout.stack,
                     fanout.digest.empty() ? "" : store_.PathOf(fanout.digest).string());
  core_.FanOutListed(fanout.stack,
                     list.ok() ? ExpandFanOut(core_.job(), fanout.stack, *list)
                               : Result<std::shared_ptr<const JobSpec>>(list.status()),
                     list.ok() ? *list : std::string());
}

}  // namespace hollerith
