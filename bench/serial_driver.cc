// hollerith-serial-driver: the client side of bench/run_bench.py, in C++ so that what is measured
// is the system and not the start-up of a CLI process per job. One gRPC channel for the whole run.
//
//   serial --jobs N        submit N one-card noop jobs one after the other, each awaited (watch
//                          stream until job_finished) before the next; per-job latencies
//   submit --spec FILE     submit one job, await it the same way, optionally save its trace
//   wait-workers --count N wait until N workers are connected (setup, not measured)
//
// Every mode prints one JSON object on stdout; errors go to stderr with exit code 1.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/client/client.h"
#include "common/auth/auth_token.h"
#include "percentile.h"
#include "proto/rpc_credentials.h"

namespace {

using hollerith::Client;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t WallMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double MicrosSince(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

struct JobRun {
  bool ok = false;
  std::string error;
  std::string job_id;
  std::string state;
  int64_t submit_wall_us = 0;  // wall clock just before SubmitJob (to line up with trace times)
  double submit_us = 0;        // until the job was accepted (SubmitAndWatch's first message)
  double total_us = 0;         // submit start to job_finished seen by the client
  uint64_t events = 0;         // events the watch stream delivered
  // From the job_finished event's own wall time (the coordinator's clock, the same machine here)
  // to its arrival: how far the watch stream ran behind the job at its end.
  double finish_lag_us = 0;
};

// Submits `spec` and blocks until job_finished arrives, in one call (Client::SubmitAndWatch).
JobRun SubmitAndWait(Client& client, const std::string& spec, const std::string& name) {
  JobRun run;
  run.submit_wall_us = WallMicrosNow();
  const auto t0 = Clock::now();
  std::string final_state;
  Clock::time_point finished_at;
  auto submitted = client.SubmitAndWatch(
      spec, name, hollerith::NewIdempotencyKey(), "",
      [&](const hollerith::SubmittedJob&) { run.submit_us = MicrosSince(t0, Clock::now()); },
      [&](const hollerith::v1::JobEvent& ev) {
        ++run.events;
        if (ev.kind() == "job_finished") {
          finished_at = Clock::now();
          run.finish_lag_us = static_cast<double>(WallMicrosNow() - ev.wall_us());
          final_state = ev.job_state();
        }
      });
  if (!submitted.ok()) {
    run.error = "submit and watch: " + submitted.message();
    return run;
  }
  run.job_id = submitted->job_id;
  if (final_state.empty()) {  // events without job_state: ask once
    auto status = client.GetJob(run.job_id, {.results = false});
    if (!status.ok()) {
      run.error = "get job: " + status.message();
      return run;
    }
    final_state = status->state();
    if (finished_at == Clock::time_point{}) finished_at = Clock::now();
  }
  run.total_us = MicrosSince(t0, finished_at);
  run.state = final_state;
  run.ok = final_state == "succeeded";
  if (!run.ok) run.error = "job " + run.job_id + " ended " + final_state;
  return run;
}

json ToJson(const JobRun& r) {
  return {{"ok", r.ok},
          {"error", r.error},
          {"job_id", r.job_id},
          {"state", r.state},
          {"submit_wall_us", r.submit_wall_us},
          {"submit_us", r.submit_us},
          {"total_us", r.total_us},
          {"events", r.events},
          {"finish_lag_us", r.finish_lag_us}};
}

using hollerith::bench::Percentile;

json Summary(const std::vector<double>& us) {
  double sum = 0;
  for (double x : us) sum += x;
  return {{"n", us.size()},
          {"p50_us", Percentile(us, 50)},
          {"p90_us", Percentile(us, 90)},
          {"p99_us", Percentile(us, 99)},
          {"min_us", us.empty() ? 0 : *std::min_element(us.begin(), us.end())},
          {"max_us", us.empty() ? 0 : *std::max_element(us.begin(), us.end())},
          {"mean_us", us.empty() ? 0 : sum / static_cast<double>(us.size())}};
}

int Serial(Client& client, int jobs, int warmup) {
  const std::string spec =
      R"({"name": "serial", "stacks": {"A": {"cards": [{"id": "c0", "builtin": "noop"}]}}})";
  std::vector<double> total, submit;
  total.reserve(jobs);
  submit.reserve(jobs);
  const auto t0 = Clock::now();
  for (int i = 0; i < warmup + jobs; ++i) {
    JobRun r = SubmitAndWait(client, spec, "serial.json");
    if (!r.ok) {
      std::fprintf(stderr, "serial job %d: %s\n", i, r.error.c_str());
      return 1;
    }
    if (i < warmup) continue;
    total.push_back(r.total_us);
    submit.push_back(r.submit_us);
  }
  const double wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  json out = {{"ok", true},       {"jobs", jobs},          {"warmup", warmup},
              {"wall_s", wall_s}, {"job", Summary(total)}, {"submit", Summary(submit)}};
  std::cout << out.dump() << std::endl;
  return 0;
}

int SubmitOne(Client& client, const std::string& spec_file, const std::string& trace_file) {
  std::ifstream in(spec_file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", spec_file.c_str());
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  JobRun r = SubmitAndWait(client, text.str(), spec_file);
  json out = ToJson(r);
  if (r.ok && !trace_file.empty()) {
    const auto t0 = Clock::now();
    auto trace = client.GetTrace(r.job_id);
    if (!trace.ok()) {
      std::fprintf(stderr, "trace: %s\n", trace.message().c_str());
      return 1;
    }
    std::ofstream t(trace_file, std::ios::binary | std::ios::trunc);
    t << *trace;
    if (!t) {
      std::fprintf(stderr, "cannot write %s\n", trace_file.c_str());
      return 1;
    }
    out["trace_s"] = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::cout << out.dump() << std::endl;
  if (!r.ok) std::fprintf(stderr, "%s\n", r.error.c_str());
  return r.ok ? 0 : 1;
}

int WaitWorkers(Client& client, int count, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  std::string last_error;
  for (;;) {
    auto workers = client.ListWorkers();
    if (workers.ok() && static_cast<int>(workers->size()) >= count) {
      json names = json::array();
      for (const auto& w : *workers) names.push_back(w.name());
      std::cout << json{{"ok", true}, {"workers", names}}.dump() << std::endl;
      return 0;
    }
    if (!workers.ok()) last_error = workers.message();
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "fewer than %d workers connected after %.0f s %s\n", count, timeout_s,
                   last_error.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // setup only, not measured
  }
}

// Over mutual TLS when the TLS files are given, else with the token.
std::optional<Client> MakeClient(const std::string& coordinator, const std::string& token_file,
                                 const hollerith::rpc::TlsFiles& tls) {
  if (tls.enabled()) {
    auto m = hollerith::rpc::LoadTlsMaterial(tls);
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.message().c_str());
      return std::nullopt;
    }
    return Client(coordinator, hollerith::ClientTls{m->ca_pem, m->cert_pem, m->key_pem});
  }
  auto token = hollerith::LoadToken(token_file);
  if (!token.ok()) {
    std::fprintf(stderr, "%s\n", token.message().c_str());
    return std::nullopt;
  }
  return Client(coordinator, *token);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hollerith-serial-driver: the benchmark's client (bench/run_bench.py)"};
  std::string coordinator, token_file;
  hollerith::rpc::TlsFiles tls;
  app.add_option("--coordinator", coordinator, "host:port")->required();
  app.add_option("--token-file", token_file, "the coordinator's token file (without TLS)");
  app.add_option("--tls-ca", tls.ca, "CA bundle: with --tls-cert and --tls-key, mutual TLS");
  app.add_option("--tls-cert", tls.cert, "client certificate (role client)");
  app.add_option("--tls-key", tls.key, "its key");
  app.require_subcommand(1);

  int jobs = 1000, warmup = 10;
  auto* serial = app.add_subcommand("serial", "N one-card jobs, one after the other");
  serial->add_option("--jobs", jobs, "measured jobs")->capture_default_str();
  serial->add_option("--warmup", warmup, "jobs run first and not counted")->capture_default_str();

  std::string spec_file, trace_file;
  auto* submit = app.add_subcommand("submit", "one job, awaited; prints its timings");
  submit->add_option("--spec", spec_file, "job spec (YAML or JSON)")->required();
  submit->add_option("--trace", trace_file, "write the job's Chrome trace here");

  int count = 2;
  double timeout_s = 30;
  auto* wait = app.add_subcommand("wait-workers", "until N workers are connected");
  wait->add_option("--count", count)->capture_default_str();
  wait->add_option("--timeout", timeout_s, "seconds")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  auto client = MakeClient(coordinator, token_file, tls);
  if (!client) return 1;
  if (serial->parsed()) return Serial(*client, jobs, warmup);
  if (submit->parsed()) return SubmitOne(*client, spec_file, trace_file);
  return WaitWorkers(*client, count, timeout_s);
}
