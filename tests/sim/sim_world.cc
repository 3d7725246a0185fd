#include "tests/sim/sim_world.h"

#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "common/base/simulated_time.h"
#include "common/trace/chrome_trace.h"
#include "common/trace/verify.h"
#include "proto/wire.h"
#include "tests/sim/sim_executor.h"
#include "tests/sim/sim_jobs.h"
#include "tests/sim/sim_store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/coordinator/owned_coordinator.h"
#include "worker/worker.h"

namespace hollerith::sim {
namespace {

using namespace std::chrono_literals;
using coordinator::OwnedCoordinator;
using coordinator::WorkerLink;
using coordinator::WorkerOutbox;

std::string Card(const v1::CardRef& c) {
  return "S" + std::to_string(c.stack()) + ".c" + std::to_string(c.card());
}

std::string Describe(const v1::WorkerMessage& m) {
  if (m.has_hello()) return "hello (" + std::to_string(m.hello().held_size()) + " claims)";
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  for (const auto& s : m.started()) {
    add("started " + Card(s.card()) + " a" + std::to_string(s.attempt()) + " try " +
        std::to_string(s.try_no()));
  }
  for (const auto& f : m.finished()) {
    add("finished " + Card(f.card()) + " a" + std::to_string(f.attempt()) +
        (f.succeeded() ? " ok" : " failed"));
  }
  for (const auto& e : m.ended()) add("ended stack " + std::to_string(e.stack()));
  if (m.has_heartbeat()) add("heartbeat");
  return out.empty() ? "(empty)" : out;
}

std::string Describe(const v1::CoordinatorMessage& m) {
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  if (m.has_welcome()) add("welcome epoch " + std::to_string(m.welcome().epoch()));
  for (const auto& a : m.assignments()) {
    add("assign " + a.job_id() + " stack " + std::to_string(a.stack()) + " a" +
        std::to_string(a.attempt()));
  }
  for (const auto& r : m.releases()) {
    const std::string more = r.also_from_stacks_size() == 0
                                 ? ""
                                 : " and " + std::to_string(r.also_from_stacks_size()) + " more";
    add("release " + Card(r.from()) + more + " -> " + Card(r.to()));
  }
  for (const auto& d : m.drops()) add("drop stack " + std::to_string(d.stack()));
  if (m.retries_size() > 0) add(std::to_string(m.retries_size()) + " retries");
  if (m.skips_size() > 0) add(std::to_string(m.skips_size()) + " skips");
  for (const auto& j : m.cancel_jobs()) add("cancel " + j);
  return out.empty() ? "(empty)" : out;
}

class World {
 public:
  World(const SimConfig& config, SimReport& report)
      : config_(config), report_(report), rng_(config.seed) {}
  ~World() {
    // Workers first (their streams end into a coordinator that still exists), then the rest.
    for (auto& n : nodes_) StopNode(*n);
    coordinator_.reset();
  }

  void Run();

 private:
  struct Node;
  struct Conn {
    uint64_t id = 0;
    Node* node = nullptr;
    uint64_t node_life = 0;
    worker::CoordinatorStream::Handlers handlers;
    std::shared_ptr<WorkerOutbox> outbox = std::make_shared<WorkerOutbox>();
    std::shared_ptr<WorkerLink> link;
    std::deque<v1::WorkerMessage> up;
    std::optional<v1::CoordinatorMessage> down;  // the outbox's write in flight
    std::optional<grpc::Status> finished;        // the coordinator ended the stream
    bool worker_closed = false;
    bool hello_seen = false;
    bool over = false;
  };
  class Stream : public worker::CoordinatorStream {
   public:
    Stream(World& world, std::shared_ptr<Conn> conn) : world_(world), conn_(std::move(conn)) {}
    bool Send(std::shared_ptr<const v1::WorkerMessage> msg) override {
      if (conn_->over || conn_->worker_closed) return false;
      conn_->up.push_back(*msg);
      return true;
    }
    bool busy() override { return false; }  // the world takes every message at once
    void Close() override {
      if (conn_->over) return;
      conn_->worker_closed = true;
      if (conn_->up.empty()) conn_->outbox->Close(grpc::Status::OK);
    }
    void Cancel() override {
      world_.Break(*conn_, grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"), "cancelled");
    }
    bool WaitDone(std::chrono::milliseconds) override { return true; }
    size_t queued() override { return conn_->up.size(); }

   private:
    World& world_;
    std::shared_ptr<Conn> conn_;
  };
  struct Node {
    std::string name;
    size_t index = 0;
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<SimExecutor> executor;
    std::unique_ptr<worker::Worker> worker;
    uint64_t life = 0;  // incremented at each start
    MonotonicTime restart_at{};
    MonotonicTime partitioned_until{};
    MonotonicTime paused_until{};
  };
  struct Job {
    SimJobPlan plan;
    size_t submit_step = 0;
    std::string id;  // once the coordinator acknowledged it
    std::optional<size_t> cancel_step;
    bool cancel_sent = false;
  };

  // Steps.
  void Log(const std::string& line) {
    if (!config_.record || line.ends_with(": heartbeat")) return;
    const double t = std::chrono::duration<double>(time_.Now() - start_).count();
    std::ostringstream s;
    s.precision(3);
    s << std::fixed << "#" << step_ << " t=" << t << "s " << line;
    report_.schedule.push_back(s.str());
  }
  bool Fail(const std::string& why) {
    if (report_.failure.empty()) report_.failure = why;
    Log("FAILED: " + why);
    return false;
  }
  bool Pausing(const Node& n) const { return time_.Now() < n.paused_until; }
  // Runs what the loops have to run until none has anything left.
  void Settle() {
    for (bool busy = true; busy;) {
      busy = false;
      if (coordinator_) {
        coordinator_->loop_.restart();
        busy |= coordinator_->loop_.poll() > 0;
      }
      for (auto& n : nodes_) {
        if (!n->io) continue;
        n->io->restart();
        busy |= n->io->poll() > 0;
      }
    }
  }
  template <typename F>
  void Owned(F f) {
    coordinator_->Owned(std::move(f));
  }

  // The network.
  std::shared_ptr<worker::CoordinatorStream> Open(Node& node,
                                                  worker::CoordinatorStream::Handlers handlers,
                                                  v1::WorkerMessage hello) {
    auto conn = std::make_shared<Conn>();
    conn->id = ++next_conn_;
    conn->node = &node;
    conn->node_life = node.life;
    conn->handlers = std::move(handlers);
    if (!coordinator_ || time_.Now() < node.partitioned_until) {
      conn->over = true;
      Log(node.name + " dials the coordinator: unreachable");
      asio::post(*node.io, [done = conn->handlers.done] {
        done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "unreachable"));
      });
      return std::make_shared<Stream>(*this, conn);
    }
    conn->up.push_back(std::move(hello));
    std::weak_ptr<Conn> weak = conn;
    conn->outbox->Attach(
        [weak](const v1::CoordinatorMessage* m) {
          if (auto c = weak.lock()) c->down = *m;
        },
        [weak](const grpc::Status& s) {
          if (auto c = weak.lock()) c->finished = s;
        });
    conns_.push_back(conn);
    return std::make_shared<Stream>(*this, conn);
  }
  bool Deliverable(const Conn& c) const {
    return !c.over && !Pausing(*c.node) && (!c.up.empty() || c.down || c.finished);
  }
  void DeliverUp(Conn& c) {
    v1::WorkerMessage msg = std::move(c.up.front());
    c.up.pop_front();
    Log(c.node->name + " -> coordinator: " + Describe(msg));
    if (!c.hello_seen) {
      if (Status error = wire::ValidateHello(msg); !error.ok()) {
        c.outbox->Close(error);
        return;
      }
      c.hello_seen = true;
      Owned([&] {
        c.link =
            coordinator_->coordinator_.WorkerHello(msg.hello(), "sim:" + c.node->name, c.outbox);
      });
    } else {
      Owned([&] {
        if (c.link) coordinator_->coordinator_.WorkerMessage(c.link, msg);
      });
    }
    if (c.up.empty() && c.worker_closed) c.outbox->Close(grpc::Status::OK);
  }
  void DeliverDown(Conn& c) {
    if (c.down) {
      v1::CoordinatorMessage msg = std::move(*c.down);
      c.down.reset();
      max_lamport_out_ = std::max(max_lamport_out_, msg.lamport());
      Log("coordinator -> " + c.node->name + ": " + Describe(msg));
      // Invariant: within one run of the coordinator, a stack's attempt has one holder. (A
      // placement the crash lost is made again under the same attempt, maybe elsewhere: the
      // old holder's claim is then refused, and its reports are not the holder's.)
      for (const auto& a : msg.assignments()) {
        auto [it, fresh] = holders_.try_emplace(
            {coordinator_runs_, a.job_id(), a.stack(), a.attempt()}, c.node->name);
        if (!fresh && it->second != c.node->name) {
          Fail("stack " + std::to_string(a.stack()) + " of " + a.job_id() + " (attempt " +
               std::to_string(a.attempt()) + ") assigned to " + it->second + " and to " +
               c.node->name);
        }
      }
      asio::post(*c.node->io, [h = c.handlers.message, msg] { h(msg); });
      c.outbox->OnWriteDone(true);
      return;
    }
    // Every message written: the stream's end reaches both sides.
    Log("coordinator ended the stream of " + c.node->name + ": " + c.finished->error_message());
    c.over = true;
    asio::post(*c.node->io, [h = c.handlers.done, s = *c.finished] { h(s); });
    Gone(c, "disconnected");
  }
  // The coordinator's side of a stream that ended (the reactor's OnDone).
  void Gone(Conn& c, const std::string& why) {
    c.outbox->Detach();
    if (coordinator_ && c.link) {
      Owned([&] { coordinator_->coordinator_.WorkerGone(c.link, why); });
    }
    c.link.reset();
  }
  // The stream breaks: what was in flight either way is lost; both sides learn of it.
  void Break(Conn& c, const grpc::Status& status, const std::string& why) {
    if (c.over) return;
    c.over = true;
    c.up.clear();
    c.down.reset();
    Log("stream of " + c.node->name + " breaks (" + why + ")");
    if (c.node->io && c.node->life == c.node_life) {
      asio::post(*c.node->io, [h = c.handlers.done, status] { h(status); });
    }
    Gone(c, why);
  }

  // Processes.
  void StartNode(Node& n) {
    ++n.life;
    n.io = std::make_unique<asio::io_context>();
    n.executor = std::make_unique<SimExecutor>(*n.io, truth_, n.name);
    worker::WorkerOptions o;
    o.coordinator = "sim";
    o.name = n.name;
    o.slots = 2;
    o.handle_signals = false;
    o.work_dir = dir_.path() + "/" + n.name;
    n.worker = std::make_unique<worker::Worker>(*n.io, time_, o, n.executor.get());
    n.worker->UseStreams(
        [this, &n](worker::CoordinatorStream::Handlers h, v1::WorkerMessage hello) {
          return Open(n, std::move(h), std::move(hello));
        },
        config_.seed * 1000 + n.index * 31 + n.life);
    n.worker->Start([this, &n](int code) {
      Log(n.name + " exited with " + std::to_string(code));
      exited_.push_back(&n);
    });
    Log("worker " + n.name + " starts");
  }
  void StopNode(Node& n) {
    if (!n.worker) return;
    n.worker.reset();  // its stream breaks (Cancel): the coordinator sees the connection go
    n.io.reset();
    n.executor.reset();
  }
  void StartCoordinator(bool recover) {
    coordinator_ = std::make_unique<OwnedCoordinator>(time_, store_, OwnedCoordinator::Config());
    ++coordinator_runs_;
    // As the daemon does: what the store holds (nothing on a new one), recovered.
    auto state = store_.Load();
    coordinator_->coordinator_.Recover(*state, SpecLimits{});
    coordinator_->coordinator_.Start();
    uint64_t now = 0;
    Owned([&] { now = coordinator_->coordinator_.clock().now(); });
    Log(std::string("coordinator ") + (recover ? "recovers" : "starts") + " at Lamport " +
        std::to_string(now));
    if (recover && now < max_lamport_out_) {
      Fail("the coordinator's Lamport clock went back across a restart: it had sent " +
           std::to_string(max_lamport_out_) + ", it resumed at " + std::to_string(now));
    }
  }
  void CrashCoordinator() {
    for (auto& c : conns_) {
      if (c->over) continue;
      c->over = true;
      c->outbox->Detach();
      if (c->node->io && c->node->life == c->node_life) {
        asio::post(*c->node->io, [h = c->handlers.done] {
          h(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the coordinator is gone"));
        });
      }
    }
    coordinator_.reset();
    store_.Crash();
  }

  // Faults: drawn at every step of the fault window, whether or not they are injected (so that
  // leaving one out keeps the draws of the others).
  void MaybeFault();
  bool Settled() const;
  void Heal();
  bool Finish();

  SimConfig config_;
  SimReport& report_;
  std::mt19937_64 rng_;
  // Workspaces come and go with every stack: in memory where there is a tmpfs.
  testing::TempDir dir_{std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp"};
  SimulatedTime time_;
  MonotonicTime start_ = time_.Now();
  SimJobStore store_;
  Truth truth_;
  std::unique_ptr<OwnedCoordinator> coordinator_;
  MonotonicTime coordinator_restart_at_{};
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Node*> exited_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<Job> jobs_;
  uint64_t next_conn_ = 0;
  uint64_t max_lamport_out_ = 0;
  // Who each (coordinator run, job, stack, attempt) was assigned to.
  std::map<std::tuple<int, std::string, uint32_t, uint32_t>, std::string> holders_;
  int coordinator_runs_ = 0;
  size_t step_ = 0;
  size_t faults_drawn_ = 0;
};

void World::MaybeFault() {
  if (step_ >= config_.fault_steps) return;
  if (!std::bernoulli_distribution(config_.fault_rate)(rng_)) return;
  const int kind = std::uniform_int_distribution<int>(0, 5)(rng_);
  Node& n = *nodes_[std::uniform_int_distribution<size_t>(0, nodes_.size() - 1)(rng_)];
  const auto lease =
      OwnedCoordinator::Config().heartbeat * OwnedCoordinator::Config().missed_heartbeats;
  const auto span = std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 1500)(rng_));
  const size_t number = faults_drawn_++;
  static const char* kKinds[] = {"break the stream of ",  "crash ",      "pause ", "partition ",
                                 "crash the coordinator", "cancel a job"};
  const std::string what = std::string(kKinds[kind]) + (kind < 4 ? n.name : "");
  report_.faults.push_back("fault " + std::to_string(number) + " at step " + std::to_string(step_) +
                           ": " + what);
  if (config_.skip_faults.count(number)) return;
  Log("FAULT " + std::to_string(number) + ": " + what);
  switch (kind) {
    case 0:
      for (auto& c : conns_) {
        if (c->node == &n && !c->over) {
          Break(*c, grpc::Status(grpc::StatusCode::UNAVAILABLE, "broken"), "broken");
        }
      }
      break;
    case 1:
      if (n.worker) {
        StopNode(n);
        n.restart_at = time_.Now() + span;
      }
      break;
    case 2:
      n.paused_until = time_.Now() + lease + span;
      break;
    case 3:
      n.partitioned_until = time_.Now() + span;
      for (auto& c : conns_) {
        if (c->node == &n && !c->over) {
          Break(*c, grpc::Status(grpc::StatusCode::UNAVAILABLE, "partitioned"), "partitioned");
        }
      }
      break;
    case 4:
      if (coordinator_) {
        // Sometimes the disk wrote what was in flight just before.
        if (std::bernoulli_distribution(0.5)(rng_)) store_.Write();
        CrashCoordinator();
        coordinator_restart_at_ = time_.Now() + span / 3;
      }
      break;
    case 5: {
      for (Job& j : jobs_) {
        if (!j.id.empty() && !j.cancel_sent && !j.cancel_step) {
          j.cancel_step = step_;
          break;
        }
      }
      break;
    }
  }
}

void World::Heal() {
  const MonotonicTime now = time_.Now();
  if (!coordinator_ && now >= coordinator_restart_at_) StartCoordinator(/*recover=*/true);
  for (Node* n : std::exchange(exited_, {})) {
    StopNode(*n);
    n->restart_at = now + 100ms;
  }
  for (auto& n : nodes_) {
    if (!n->worker && now >= n->restart_at) StartNode(*n);
  }
  std::erase_if(conns_, [](const std::shared_ptr<Conn>& c) { return c->over; });
}

void World::Run() {
  for (int i = 0; i < config_.workers; ++i) {
    auto n = std::make_unique<Node>();
    n->name = "w" + std::to_string(i + 1);
    n->index = static_cast<size_t>(i);
    nodes_.push_back(std::move(n));
  }
  for (int j = 0; j < config_.jobs; ++j) {
    Job job;
    job.plan = DrawJob("j" + std::to_string(j + 1), rng_, truth_);
    job.plan.expected = LocalResult(job.plan.spec, dir_.path() + "/local-" + job.plan.tag);
    job.submit_step =
        j == 0 ? 0 : std::uniform_int_distribution<size_t>(0, config_.fault_steps / 2)(rng_);
    jobs_.push_back(std::move(job));
  }
  StartCoordinator(/*recover=*/false);
  for (auto& n : nodes_) StartNode(*n);
  Settle();

  for (step_ = 1; step_ <= config_.max_steps; ++step_) {
    report_.steps = step_;
    Heal();
    // Clients.
    if (coordinator_) {
      for (Job& j : jobs_) {
        if (j.id.empty() && step_ >= j.submit_step) {
          v1::SubmitJobRequest req;
          req.set_spec(j.plan.yaml);
          req.set_spec_name(j.plan.tag + ".yaml");
          req.set_idempotency_key(j.plan.tag);
          v1::SubmitJobResponse resp;
          Status s;
          Owned([&] { s = coordinator_->coordinator_.Submit(j.plan.spec, req, &resp); });
          if (s.ok()) {
            j.id = resp.job_id();
            Log("client submits " + j.plan.tag + ": " + j.id);
          }
        }
        if (j.cancel_step && !j.cancel_sent && !j.id.empty()) {
          v1::CancelJobResponse resp;
          Owned([&] { coordinator_->coordinator_.Cancel(j.id, &resp).IgnoreError(); });
          j.cancel_sent = true;
          Log("client cancels " + j.id);
        }
      }
    }
    MaybeFault();
    Settle();
    if (!truth_.violation.empty()) {
      Fail(truth_.violation);
      return;
    }
    if (!report_.failure.empty()) return;
    if (step_ > config_.fault_steps && step_ % 16 == 0 && Settled()) {
      Finish();
      return;
    }

    // One step of the schedule.
    std::vector<std::function<void()>> actions;
    std::vector<double> weights;
    for (auto& c : conns_) {
      if (!Deliverable(*c)) continue;
      Conn* conn = c.get();
      if (!c->up.empty()) {
        actions.push_back([this, conn] { DeliverUp(*conn); });
        weights.push_back(10);
      }
      if (c->down || (c->finished && c->up.empty())) {
        actions.push_back([this, conn] { DeliverDown(*conn); });
        weights.push_back(10);
      }
    }
    for (auto& n : nodes_) {
      if (!n->executor || Pausing(*n)) continue;
      for (const auto& [handle, running] : n->executor->running()) {
        actions.push_back(
            [this, e = n->executor.get(), h = handle, name = running.card.name, node = n->name] {
              Log(name + " ends on " + node);
              e->Complete(h);
            });
        weights.push_back(3);
      }
    }
    if (store_.in_flight() > 0) {
      actions.push_back([this] { store_.Write(); });
      weights.push_back(5);
    }
    const bool idle = actions.empty();
    actions.push_back([this, idle] {
      if (idle || std::bernoulli_distribution(0.3)(rng_)) {
        if (!time_.FireNext()) time_.Advance(10ms);
      } else {
        time_.Advance(std::chrono::milliseconds(std::uniform_int_distribution<int>(1, 30)(rng_)));
      }
    });
    weights.push_back(idle ? 1 : 2);
    std::discrete_distribution<size_t> choose(weights.begin(), weights.end());
    actions[choose(rng_)]();
    Settle();
  }
  std::string running;
  for (const Job& j : jobs_) running += " " + j.plan.tag + (j.id.empty() ? "(not submitted)" : "");
  report_.cards_run = truth_.cards_run;
  Fail("the jobs did not end within " + std::to_string(config_.max_steps) + " steps:" + running);
}

bool World::Settled() const {
  if (!coordinator_) return false;
  for (const auto& n : nodes_) {
    if (!n->worker) return false;
  }
  for (const Job& j : jobs_) {
    if (j.id.empty()) return false;
    v1::JobStatus st;
    coordinator_->Owned([&] { coordinator_->coordinator_.GetJob(j.id, &st).IgnoreError(); });
    if (st.state() == "running" || st.state().empty()) return false;
  }
  return true;
}

bool World::Finish() {
  report_.cards_run = truth_.cards_run;
  for (const Job& j : jobs_) {
    v1::JobStatus st;
    Status got;
    Owned([&] { got = coordinator_->coordinator_.GetJob(j.id, &st); });
    if (!got.ok()) return Fail("job " + j.plan.tag + " is gone: " + got.message());
    if (!j.cancel_sent) {
      nlohmann::json actual = ResultProjection(nlohmann::json::parse(st.result_json()));
      // A card whose worker was lost three times while it ran is quarantined (failed): an end
      // a local run cannot have, when the faults struck that card's holders three times.
      if (actual != j.plan.expected &&
          actual.dump().find("quarantined: its worker was lost") != std::string::npos) {
        Log("job " + j.plan.tag + " ended with a quarantined card: results not compared");
        ++report_.quarantined;
      } else if (actual != j.plan.expected) {
        return Fail("job " + j.plan.tag + " (" + j.id + ") differs from run --local:\n  cluster " +
                    actual.dump() + "\n  local   " + j.plan.expected.dump());
      }
    }
    std::string json;
    Status rendered;
    Owned([&] { rendered = coordinator_->coordinator_.RenderTrace(j.id, &json); });
    if (!rendered.ok()) return Fail("no trace of " + j.id + ": " + rendered.message());
    if (!config_.trace_dir.empty()) {
      std::ofstream(config_.trace_dir + "/" + j.id + ".json") << json;
      std::ofstream(config_.trace_dir + "/" + j.id + ".yaml") << j.plan.yaml;
    }
    std::istringstream in(json);
    auto trace = ReadChromeTrace(*j.plan.spec, in);
    if (!trace.ok()) return Fail("the trace of " + j.id + " does not read: " + trace.message());
    auto verified = VerifyTrace(*j.plan.spec, *trace);
    if (!verified.ok()) {
      return Fail("the trace of " + j.id + " fails verify: " + verified.message());
    }
    // Each dependency released once per attempt of the stack that waits for it.
    std::set<std::tuple<uint32_t, uint32_t, uint32_t, uint32_t, uint32_t>> released;
    for (const TraceEvent& e : trace->events()) {
      if (e.kind == EventKind::kRelease &&
          !released.insert({e.card.stack, e.card.card, e.target.stack, e.target.card, e.attempt})
               .second) {
        return Fail("the trace of " + j.id + " releases S" + std::to_string(e.card.stack) + ".c" +
                    std::to_string(e.card.card) + " to S" + std::to_string(e.target.stack) + ".c" +
                    std::to_string(e.target.card) + " twice in attempt " +
                    std::to_string(e.attempt));
      }
    }
    // A re-run of a stack continues its clock: no two attempts' card events share a clock.
    std::map<std::pair<uint32_t, VectorClock::Entries>, uint32_t> attempt_of;
    for (const TraceEvent& e : trace->events()) {
      if (e.kind != EventKind::kCardStarted && e.kind != EventKind::kCardFinished) continue;
      auto [it, fresh] = attempt_of.try_emplace({e.card.stack, e.vc.entries()}, e.attempt);
      if (!fresh && it->second != e.attempt) {
        return Fail("the trace of " + j.id + ": attempts " + std::to_string(it->second) + " and " +
                    std::to_string(e.attempt) + " of stack " + std::to_string(e.card.stack) +
                    " repeat a vector clock");
      }
    }
  }
  Log("every job ended as run --local; every trace verifies");
  return true;
}

}  // namespace

SimReport Simulate(const SimConfig& config) {
  SimReport report;
  // The daemons' logs of thousands of schedules say nothing the schedule does not.
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);
  {
    World world(config, report);
    world.Run();
  }
  spdlog::set_level(level);
  return report;
}

SimReport Shrink(SimConfig config, const SimReport& failing) {
  // The same failure, not another one a shorter schedule might run into: the same text up to
  // its first ':' ("the trace of sim-j1-1 fails verify", "the jobs did not end within ...").
  auto kind = [](const std::string& failure) { return failure.substr(0, failure.find(':')); };
  SimReport best = failing;
  for (size_t f = 0; f < failing.faults.size(); ++f) {
    if (config.skip_faults.count(f)) continue;
    config.skip_faults.insert(f);
    SimReport r = Simulate(config);
    if (r.failure.empty() || kind(r.failure) != kind(failing.failure)) {
      config.skip_faults.erase(f);
    } else {
      best = std::move(r);
    }
  }
  config.record = true;
  best = Simulate(config);
  return best;
}

}  // namespace hollerith::sim
