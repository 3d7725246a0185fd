// hollerith-load: measures one real coordinator at scale (issue 30). ONE process holds N real gRPC
// worker sessions (default 10,000; names load-0 .. load-N-1, one channel and TCP connection each)
// to the coordinator over loopback. They answer as worker daemons do (hello, heartbeats at the
// welcome's interval, card starts and finishes with the clocks a StackHost stamps, stack ends:
// bench/load_worker.h), so the job's trace verifies. Then one job of S stacks (default 100,000) is
// submitted through the client library: S/2 pairs of one-card no-op stacks, b_i's card `after`
// a_i's card, so every pair is a cross-stack release that usually crosses workers.
//
// "In flight" here: a stack assigned to a load worker and not ended. Every a_i card is held (it has
// started, it does not finish) until all S stacks are assigned, so at that moment all S stacks are
// in flight at once: placements_per_s is the coordinator placing and shipping S stacks to N
// sessions with nothing finishing meanwhile. Then the a_i cards finish, all at once (default) or
// --finish-rate per second, and each release is timed from the WorkerMessage carrying a_i's finish
// leaving its load worker to the message carrying b_i's release reaching another one (same
// process, same steady clock). With all at once, release_p99_us includes the queue of S/2
// finishes arriving together.
//
// Prints a progress line on stderr every second and one JSON object as the last stdout line:
//   workers, stacks, connect_s (all N welcomed and listed by ListWorkers), placements_per_s
//   (S / submit..last assignment), release_p50_us, release_p99_us, job_total_s (submit..ListJobs
//   says finished, polled every 100 ms), coordinator memory from /proc/PID/status with
//   --coordinator-pid (VmRSS idle, after connecting, VmHWM after the job; bytes_per_worker,
//   bytes_per_stack), lease_expired (sessions that ended unexpectedly, plus "missed its lease"
//   lines of --coordinator-log).
// Exit 0 when the job succeeded and no session was lost; 1 otherwise (the JSON says why); 2 for
// bad flags or too few file descriptors. Everything is bounded by --timeout.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/client/client.h"
#include "common/auth/auth_token.h"
#include "load_worker.h"
#include "percentile.h"
#include "proto/rpc_credentials.h"
#include "proto/rpc_runtime.h"

namespace {

using hollerith::load::SteadyClock;
using nlohmann::json;

struct Options {
  std::string coordinator;
  std::string token_file;
  hollerith::rpc::TlsFiles tls;
  size_t workers = 10000;
  size_t stacks = 100000;
  size_t workers_per_channel = 1;
  double timeout_s = 300;
  double connect_rate = 5000;  // sessions opened per second
  double finish_rate = 0;      // held cards finished per second after the gate; 0: all at once
  int coordinator_pid = 0;
  std::string coordinator_log;
  std::string trace_file;
  std::string spec_file;
};

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

// One line of /proc/PID/status ("VmRSS:", "VmHWM:") in bytes; 0 when it cannot be read.
uint64_t ProcStatusBytes(int pid, const std::string& field) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0)
      return std::strtoull(line.c_str() + field.size(), nullptr, 10) * 1024;
  }
  return 0;
}

// Lines of the coordinator's log saying a worker missed its lease (the text of
// Coordinator::CheckLeases).
size_t LeaseLines(const std::string& log) {
  if (log.empty()) return 0;
  std::ifstream in(log);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) n += line.find("missed its lease") != std::string::npos;
  return n;
}

// Raises RLIMIT_NOFILE as far as allowed (root may raise the hard limit); false, said on stderr,
// when still below `needed`.
bool RaiseFdLimit(rlim_t needed) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return false;
  if (lim.rlim_max < needed) {
    rlimit raised{needed, needed};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  lim.rlim_cur = lim.rlim_max;
  (void)::setrlimit(RLIMIT_NOFILE, &lim);
  (void)::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur >= needed) return true;
  std::fprintf(stderr,
               "hollerith-load: the open-file limit is %llu, but %llu sessions need about %llu "
               "descriptors here (and as many in the coordinator): raise it (ulimit -n %llu, as "
               "root or via limits.conf) or use fewer --workers\n",
               static_cast<unsigned long long>(lim.rlim_cur),
               static_cast<unsigned long long>(needed - 1024),
               static_cast<unsigned long long>(needed), static_cast<unsigned long long>(needed));
  return false;
}

// S/2 pairs of one-card no-op stacks: b_i's card waits for a_i's (a cross-stack release).
std::string LoadSpec(size_t stacks) {
  std::string spec = R"({"name": "load", "stacks": {)";
  spec.reserve(stacks * 64);
  for (size_t i = 0; i < stacks / 2; ++i) {
    const std::string n = std::to_string(i);
    if (i > 0) spec += ',';
    spec += "\"a" + n + "\": {\"cards\": [{\"id\": \"" + hollerith::load::kHeldCard +
            "\", \"builtin\": \"noop\"}]}, \"b" + n +
            "\": {\"cards\": [{\"id\": \"b\", \"builtin\": \"noop\", \"after\": [\"a" + n + "." +
            hollerith::load::kHeldCard + "\"]}]}";
  }
  spec += "}}";
  return spec;
}

using hollerith::bench::Percentile;

std::optional<hollerith::Client> MakeClient(const Options& o, std::string* token) {
  if (o.tls.enabled()) {
    std::fprintf(stderr,
                 "hollerith-load: mutual TLS is not supported: the coordinator ties a worker's "
                 "certificate to its name, and N load workers would need N certificates; run "
                 "the coordinator with a token (--token-file)\n");
    return std::nullopt;
  }
  auto loaded = hollerith::LoadToken(o.token_file);
  if (!loaded.ok()) {
    std::fprintf(stderr, "hollerith-load: %s\n", loaded.message().c_str());
    return std::nullopt;
  }
  *token = *loaded;
  return hollerith::Client(o.coordinator, *loaded);
}

int Run(const Options& o) {
  const auto t_start = SteadyClock::now();
  const auto deadline = t_start + std::chrono::duration_cast<SteadyClock::duration>(
                                      std::chrono::duration<double>(o.timeout_s));
  json out = {{"ok", false},
              {"workers", o.workers},
              {"stacks", o.stacks},
              {"workers_per_channel", o.workers_per_channel}};
  auto fail = [&](const std::string& why) -> int {
    out["error"] = why;
    std::fprintf(stderr, "hollerith-load: %s\n", why.c_str());
    std::cout << out.dump() << std::endl;
    std::fflush(nullptr);
    std::_Exit(1);  // 10,000 channels need no orderly teardown; the coordinator sees them close
  };

  std::string token;
  auto client = MakeClient(o, &token);
  if (!client) return 2;
  const size_t lease_lines_before = LeaseLines(o.coordinator_log);
  const uint64_t rss_idle = ProcStatusBytes(o.coordinator_pid, "VmRSS:");

  std::error_code ec;
  const auto work_root =
      std::filesystem::temp_directory_path() / ("hollerith-load-" + std::to_string(::getpid()));
  asio::io_context io;
  hollerith::load::Fleet fleet(io, work_root);
  fleet.token = token;
  fleet.expected_stacks = o.stacks;
  // Every stack asks for one cpu (the default request): each worker says it has room for its
  // share of them, so all S can be placed at once.
  const uint64_t per_worker = (o.stacks + o.workers - 1) / o.workers + 1;
  const hollerith::Resources capacity{per_worker * hollerith::kMilliCpu, 0, {}};

  std::vector<std::unique_ptr<hollerith::load::LoadWorker>> workers;
  workers.reserve(o.workers);
  std::shared_ptr<grpc::Channel> channel;
  for (size_t i = 0; i < o.workers; ++i) {
    if (i % o.workers_per_channel == 0) {
      grpc::ChannelArguments args;
      // Its own subchannel (TCP connection): gRPC would otherwise share one among equal channels.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      channel = hollerith::rpc::MakeChannel(o.coordinator,
                                            hollerith::rpc::ChannelCredentials(nullptr), args);
    }
    workers.push_back(
        std::make_unique<hollerith::load::LoadWorker>(fleet, "load-" + std::to_string(i), channel));
  }
  channel.reset();

  // The held cards finish once every stack is assigned: all at once, or paced.
  asio::steady_timer pacer(io);
  std::function<void()> pace = [&] {
    fleet.executor.CompleteHeld(std::max<size_t>(1, static_cast<size_t>(o.finish_rate / 100)));
    pacer.expires_after(std::chrono::milliseconds(10));
    pacer.async_wait([&](const std::error_code& e) {
      if (!e && !fleet.stopping) pace();
    });
  };
  fleet.on_all_assigned = [&] {
    if (o.finish_rate <= 0) {
      fleet.executor.Open();
      fleet.executor.CompleteHeld(SIZE_MAX);
    } else {
      pace();
    }
  };

  auto guard = asio::make_work_guard(io);
  std::thread loop([&io] { io.run(); });
  auto stop_all = [&] {
    fleet.stopping = true;
    std::promise<void> stopped;
    asio::post(io, [&] {
      pacer.cancel();
      for (auto& w : workers) w->Stop();
      stopped.set_value();
    });
    stopped.get_future().wait_for(std::chrono::seconds(10));
    const auto until = SteadyClock::now() + std::chrono::seconds(5);
    for (auto& w : workers) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now());
      if (!w->WaitDone(std::max(left, std::chrono::milliseconds(1)))) break;
    }
  };
  auto fail_stopped = [&](const std::string& why) -> int {
    stop_all();
    return fail(why);
  };

  // ---- connect N sessions, paced, and wait until the coordinator lists them all
  auto last_progress = SteadyClock::now();
  size_t opened = 0;
  const size_t per_tick = std::max<size_t>(1, static_cast<size_t>(o.connect_rate / 20));
  size_t listed = 0;
  auto next_list = SteadyClock::now();
  std::string list_error;
  while (true) {
    if (opened < o.workers) {
      const size_t until = std::min(o.workers, opened + per_tick);
      asio::post(io, [&workers, &capacity, from = opened, until] {
        for (size_t i = from; i < until; ++i) workers[i]->Connect(capacity);
      });
      opened = until;
    }
    const auto now = SteadyClock::now();
    if (fleet.welcomed == o.workers && now >= next_list) {
      auto listed_workers = client->ListWorkers();
      next_list = now + std::chrono::milliseconds(200);
      if (listed_workers.ok()) {
        listed = static_cast<size_t>(std::count_if(
            listed_workers->begin(), listed_workers->end(),
            [](const hollerith::v1::WorkerInfo& w) { return w.name().rfind("load-", 0) == 0; }));
      } else {
        list_error = listed_workers.message();
      }
      if (listed >= o.workers) break;
    }
    if (fleet.lost > 0) {
      return fail_stopped(std::to_string(fleet.lost.load()) + " sessions ended while connecting (" +
                          (fleet.lost_reasons.empty() ? "" : fleet.lost_reasons.front()) + ")");
    }
    if (now >= deadline) {
      return fail_stopped("timed out connecting: " + std::to_string(fleet.welcomed.load()) + "/" +
                          std::to_string(o.workers) + " welcomed, " + std::to_string(listed) +
                          " listed " + list_error);
    }
    if (now - last_progress >= std::chrono::seconds(1)) {
      last_progress = now;
      std::fprintf(stderr, "connecting: %zu opened, %zu/%zu welcomed, %zu listed, %.1f s\n", opened,
                   fleet.welcomed.load(), o.workers, listed, Seconds(now - t_start));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double connect_s = Seconds(SteadyClock::now() - t_start);
  const uint64_t rss_connected = ProcStatusBytes(o.coordinator_pid, "VmRSS:");
  std::fprintf(stderr, "connected: %zu workers in %.2f s\n", o.workers, connect_s);

  // ---- one job of S stacks
  const std::string spec = LoadSpec(o.stacks);
  if (!o.spec_file.empty()) {
    std::ofstream f(o.spec_file, std::ios::binary | std::ios::trunc);
    f << spec;
    if (!f) return fail_stopped("cannot write " + o.spec_file);
  }
  const auto t_submit = SteadyClock::now();
  auto submitted = client->Submit(spec, "load.json", hollerith::NewIdempotencyKey());
  if (!submitted.ok()) return fail_stopped("submit: " + submitted.message());
  const std::string job_id = submitted->job_id;
  out["job_id"] = job_id;
  std::string state;
  auto next_poll = SteadyClock::now();
  SteadyClock::time_point finished_at;
  while (true) {
    const auto now = SteadyClock::now();
    if (now >= next_poll) {
      next_poll = now + std::chrono::milliseconds(100);
      // The jobs' summaries (`hollerith status` without a job), not GetJob: GetJob renders every
      // stack's status and the result document of all S cards, on the coordinator's state, and
      // ten of those a second measured the poll more than the placements.
      auto jobs = client->ListJobs();
      const hollerith::v1::JobStatus* status = nullptr;
      if (jobs.ok()) {
        for (const auto& j : *jobs) status = j.job_id() == job_id ? &j : status;
      }
      if (status && hollerith::IsFinishedJobState(status->state())) {
        finished_at = SteadyClock::now();
        state = status->state();
        break;
      }
      if (!jobs.ok()) std::fprintf(stderr, "list jobs: %s\n", jobs.message().c_str());
    }
    if (now >= deadline) {
      return fail_stopped("timed out running the job: " + std::to_string(fleet.assigned.load()) +
                          "/" + std::to_string(o.stacks) + " assigned, " +
                          std::to_string(fleet.finished.load()) + " cards finished");
    }
    if (now - last_progress >= std::chrono::seconds(1)) {
      last_progress = now;
      std::fprintf(stderr,
                   "running: %zu/%zu assigned, %zu started, %zu finished, %zu releases, %zu "
                   "sessions lost, %.1f s\n",
                   fleet.assigned.load(), o.stacks, fleet.started.load(), fleet.finished.load(),
                   fleet.releases.load(), fleet.lost.load(), Seconds(now - t_submit));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const uint64_t hwm = ProcStatusBytes(o.coordinator_pid, "VmHWM:");
  const uint64_t rss_end = ProcStatusBytes(o.coordinator_pid, "VmRSS:");

  // ---- the figures (read on the loop: they are its own)
  std::promise<json> figures;
  asio::post(io, [&] {
    const double place_s = Seconds(fleet.last_assignment - t_submit);
    figures.set_value(
        json{{"assigned", fleet.assigned.load()},
             {"placements_per_s",
              place_s > 0 ? static_cast<double>(fleet.assigned.load()) / place_s : 0.0},
             {"place_s", place_s},
             {"releases_measured", fleet.release_us.size()},
             {"release_p50_us", Percentile(fleet.release_us, 50)},
             {"release_p99_us", Percentile(fleet.release_us, 99)},
             {"release_max_us", Percentile(fleet.release_us, 100)},
             {"lost_reasons", fleet.lost_reasons}});
  });
  auto got = figures.get_future();
  if (got.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return fail_stopped("the load workers' loop did not answer within 30 s");
  }
  out.update(got.get());
  out["connect_s"] = connect_s;
  out["job_total_s"] = Seconds(finished_at - t_submit);
  out["state"] = state;
  if (o.coordinator_pid > 0) {
    out["coordinator_rss_idle_bytes"] = rss_idle;
    out["coordinator_rss_connected_bytes"] = rss_connected;
    out["coordinator_rss_end_bytes"] = rss_end;
    out["coordinator_hwm_bytes"] = hwm;
    out["bytes_per_worker"] =
        static_cast<double>(rss_connected - std::min(rss_connected, rss_idle)) /
        static_cast<double>(o.workers);
    out["bytes_per_stack"] =
        static_cast<double>(hwm - std::min(hwm, rss_connected)) / static_cast<double>(o.stacks);
  }
  if (!o.trace_file.empty()) {
    auto trace = client->GetTrace(job_id);
    std::ofstream t(o.trace_file, std::ios::binary | std::ios::trunc);
    if (trace.ok()) t << *trace;
    if (!trace.ok() || !t) {
      return fail_stopped("cannot save the trace to " + o.trace_file +
                          (trace.ok() ? "" : ": " + trace.message()));
    }
  }
  const size_t lost = fleet.lost;  // before stop_all: from here on, ends are ours
  stop_all();
  io.stop();
  loop.join();
  const size_t lease_lines = LeaseLines(o.coordinator_log) - lease_lines_before;
  out["sessions_lost"] = lost;
  out["lease_expired"] = lost + lease_lines;
  std::filesystem::remove_all(work_root, ec);
  if (state != "succeeded") return fail("job " + job_id + " ended " + state);
  if (lost + lease_lines > 0) {
    return fail(std::to_string(lost) + " sessions ended unexpectedly and the coordinator log has " +
                std::to_string(lease_lines) + " 'missed its lease' lines");
  }
  out["ok"] = true;
  std::cout << out.dump() << std::endl;
  std::fflush(nullptr);
  std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  hollerith::rpc::SkipMutexCycleChecks();  // as the daemons run
  CLI::App app{"hollerith-load: N simulated workers and one S-stack job against one coordinator"};
  Options o;
  app.add_option("--coordinator", o.coordinator, "host:port")->required();
  app.add_option("--token-file", o.token_file, "the coordinator's token file");
  app.add_option("--tls-ca", o.tls.ca, "not supported (N workers would need N certificates)");
  app.add_option("--tls-cert", o.tls.cert, "not supported");
  app.add_option("--tls-key", o.tls.key, "not supported");
  app.add_option("--workers", o.workers, "simulated worker sessions")->capture_default_str();
  app.add_option("--stacks", o.stacks, "stacks of the job (pairs: an even number >= 2)")
      ->capture_default_str();
  app.add_option("--workers-per-channel", o.workers_per_channel,
                 "sessions sharing one gRPC channel (TCP connection)")
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "seconds for everything")->capture_default_str();
  app.add_option("--connect-rate", o.connect_rate, "sessions opened per second")
      ->capture_default_str();
  app.add_option("--finish-rate", o.finish_rate,
                 "held cards finished per second once all stacks are assigned (0: all at once)")
      ->capture_default_str();
  app.add_option("--coordinator-pid", o.coordinator_pid, "read the coordinator's memory in /proc");
  app.add_option("--coordinator-log", o.coordinator_log,
                 "count its 'missed its lease' lines into lease_expired");
  app.add_option("--trace", o.trace_file, "save the job's trace here (for `hollerith verify`)");
  app.add_option("--save-spec", o.spec_file, "save the job's spec here (verify's --spec)");
  CLI11_PARSE(app, argc, argv);
  if (o.workers == 0 || o.stacks < 2 || o.stacks % 2 != 0 || o.workers_per_channel == 0) {
    std::fprintf(stderr, "hollerith-load: need --workers >= 1, --stacks even and >= 2\n");
    return 2;
  }
  if (!RaiseFdLimit(static_cast<rlim_t>(o.workers / o.workers_per_channel + 1024))) return 2;
  return Run(o);
}
