// `hollerith replay TRACE --spec JOB.yaml`: runs the job locally, one card at a time, in the
// order a trace recorded, and reports where the results diverged from the recorded ones.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cli/commands/commands.h"
#include "cli/commands/local_workdir.h"
#include "cli/commands/ordered_run.h"
#include "common/spec/fanout.h"
#include "common/trace/chrome_trace.h"

namespace hollerith::cli {
namespace {

struct ReplayFlags {
  std::string trace;
  std::string spec;
  std::string trace_out;
  LocalRunFlags local;
};

// What a trace says became of one card: its last try's start and its last outcome.
struct Recorded {
  bool started = false;
  std::tuple<uint64_t, std::string, size_t> start;  // Lamport, node, place in the file
  std::string state;                                // "" when the trace records no outcome
  int exit_code = 0;
  std::string detail;
};

std::map<std::string, Recorded> ReadRecord(const TraceOfJob& read) {
  std::map<std::string, Recorded> cards;
  const auto& events = read.trace.events();
  for (size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    const bool start = e.kind == EventKind::kCardStarted || e.kind == EventKind::kCardCached;
    const char* outcome = nullptr;
    switch (e.kind) {
      case EventKind::kCardFinished:
      case EventKind::kCardCached:
        outcome = "succeeded";
        break;
      case EventKind::kCardFailed:
        outcome = "failed";
        break;
      case EventKind::kCardSkipped:
        outcome = "skipped";
        break;
      default:
        break;
    }
    if (!start && outcome == nullptr) continue;
    Recorded& r = cards[read.job->card_name(e.card)];
    if (start) {
      // A card tried more than once (retries, a stack re-placed) takes its last try's place.
      r.started = true;
      r.start = {e.lamport, read.trace.nodes()[e.node], i};
    }
    if (outcome != nullptr) {
      r.state = outcome;
      r.exit_code = e.exit_code;
      r.detail = read.trace.detail(e);
    }
  }
  return cards;
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

// The job a trace names ("" when it names none).
std::string TraceJobName(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("otherData") || !doc["otherData"].is_object()) return "";
  const auto& other = doc["otherData"];
  return other.contains("job") && other["job"].is_string() ? other["job"].get<std::string>() : "";
}

// The first card (or released card) a trace names that `job` does not have, not counting the
// instances of its run-time matrix stacks (made while reading); "" when there is none.
std::string UnknownCard(const nlohmann::json& doc, const JobSpec& job) {
  std::set<std::string> known;
  std::vector<std::string> made;  // "TEMPLATE-": the instances' ids begin so
  for (uint32_t s = 0; s < job.stacks.size(); ++s) {
    if (job.stacks[s].is_template()) made.push_back(job.stacks[s].id + "-");
    for (uint32_t c = 0; c < job.stacks[s].cards.size(); ++c) known.insert(job.card_name({s, c}));
  }
  if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array()) return "";
  for (const auto& e : doc["traceEvents"]) {
    if (!e.is_object() || !e.contains("args") || !e["args"].is_object()) continue;
    for (const char* key : {"card", "target"}) {
      if (!e["args"].contains(key) || !e["args"][key].is_string()) continue;
      const std::string name = e["args"][key].get<std::string>();
      const bool instance = std::any_of(made.begin(), made.end(), [&](const std::string& prefix) {
        return name.starts_with(prefix);
      });
      if (!known.contains(name) && !instance) return name;
    }
  }
  return "";
}

std::string Outcome(const std::string& state, int exit_code) {
  if (state.empty()) return "nothing";
  if (state == "skipped") return state;
  return state + " (exit " + std::to_string(exit_code) + ")";
}

int Replay(const ReplayFlags& f) {
  auto loaded = LoadLocalJob(f.spec, f.local.run_as, f.local.default_limits);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.message().c_str());
    return 2;
  }
  const std::shared_ptr<const JobSpec> job = loaded->job;
  const nlohmann::json doc = ReadJson(f.trace);
  if (const std::string name = TraceJobName(doc); !name.empty() && name != job->name) {
    std::fprintf(stderr, "%s: a trace of job '%s', not of '%s' (%s)\n", f.trace.c_str(),
                 name.c_str(), job->name.c_str(), f.spec.c_str());
    return 2;
  }
  // A run-time matrix's stacks are made again from the lists the trace recorded.
  auto read = ReadChromeTraceFile(job, f.trace,
                                  [](const JobSpec& j, uint32_t stack, std::string_view list) {
                                    return ExpandFanOut(j, stack, list);
                                  });
  if (!read.ok()) {
    if (const std::string unknown = UnknownCard(doc, *job); !unknown.empty()) {
      std::fprintf(stderr, "%s: the trace names card %s, which %s does not have\n", f.trace.c_str(),
                   unknown.c_str(), f.spec.c_str());
    }
    std::fprintf(stderr, "%s: %s\n", f.trace.c_str(), read.message().c_str());
    return 2;
  }
  const std::map<std::string, Recorded> recorded = ReadRecord(*read);
  std::vector<std::pair<decltype(Recorded::start), std::string>> starts;
  for (const auto& [name, r] : recorded) {
    if (r.started) starts.emplace_back(r.start, name);
  }
  if (starts.empty()) {
    std::fprintf(stderr, "%s: the trace records no card that started\n", f.trace.c_str());
    return 2;
  }
  // The recorded order: Lamport time, then node (DESIGN.md: a valid sequential order).
  std::sort(starts.begin(), starts.end());
  std::vector<std::string> order;
  for (const auto& [start, name] : starts) order.push_back(name);
  OrderGate::Sequencer sequencer = [order](const JobSpec& j) {
    std::map<std::string, CardRef> refs;
    for (uint32_t s = 0; s < j.stacks.size(); ++s) {
      for (uint32_t c = 0; c < j.stacks[s].cards.size(); ++c) refs[j.card_name({s, c})] = {s, c};
    }
    std::vector<CardRef> sequence;
    for (const std::string& name : order) {
      if (auto it = refs.find(name); it != refs.end()) sequence.push_back(it->second);
    }
    return sequence;
  };

  const bool own_base = f.local.workdir.empty();
  const std::filesystem::path base =
      own_base ? NewTempWorkdir(job->name) : std::filesystem::path(f.local.workdir);
  std::fprintf(stderr,
               "replaying job '%s': %zu cards one at a time in the order %s recorded; "
               "workspaces in %s\n",
               job->name.c_str(), order.size(), f.trace.c_str(), base.c_str());
  OrderedRun run =
      RunInOrder(job, sequencer,
                 {.workdir = base / "replay", .sandbox = loaded->sandbox, .trace = f.trace_out});
  if (!f.local.keep) {
    std::error_code ec;
    std::filesystem::remove_all(own_base ? base : base / "replay", ec);
  }
  if (!run.finished) {
    std::fprintf(stderr, "replay: %s\n", run.problem.c_str());
    return run.problem == "interrupted" ? 1 : 2;
  }
  std::fprintf(stderr, "replay: %zu cards, %.1f s\n", run.cards_run, run.seconds);
  for (const std::string& d : run.deviations) std::fprintf(stderr, "note: %s\n", d.c_str());

  size_t diverged = 0, compared = 0;
  const auto& cards = run.result["cards"];
  for (const auto& [name, r] : recorded) {
    if (r.state.empty()) continue;  // the recorded run ended before this card did
    ++compared;
    std::string state = "";
    int exit_code = 0;
    if (cards.contains(name)) {
      state = cards[name].value("state", "");
      exit_code = cards[name].value("exit_code", 0);
    }
    const bool ran = state == "succeeded" || state == "failed";
    if (state == r.state && (!ran || exit_code == r.exit_code)) continue;
    ++diverged;
    std::printf("card %s: recorded %s, replay %s\n", name.c_str(),
                Outcome(r.state, r.exit_code).c_str(), Outcome(state, exit_code).c_str());
    if (!r.detail.empty()) std::printf("  recorded: %s\n", r.detail.c_str());
    if (cards.contains(name) && cards[name].contains("error")) {
      std::printf("  replay: %s\n", cards[name]["error"].get<std::string>().c_str());
    }
    if (auto it = run.stderr_text.find(name); it != run.stderr_text.end()) {
      std::string tail =
          it->second.size() > 2000 ? it->second.substr(it->second.size() - 2000) : it->second;
      while (!tail.empty() && tail.back() == '\n') tail.pop_back();
      std::printf("  replay's stderr:\n    %s\n", tail.c_str());
    }
  }
  if (diverged == 0) {
    std::printf("replay: %zu cards in the recorded order; all %zu recorded results matched\n",
                order.size(), compared);
    return 0;
  }
  std::printf("replay: %zu of %zu recorded results diverged\n", diverged, compared);
  return 1;
}

}  // namespace

void AddReplayCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "replay",
      "Run a job locally, one card at a time, in the order a trace recorded, and report results "
      "that differ from the recorded ones (exit 0 as recorded, 1 diverged, 2 bad input)");
  auto f = std::make_shared<ReplayFlags>();
  cmd->add_option("TRACE", f->trace, "Trace written by --trace or `hollerith trace`")->required();
  cmd->add_option("--spec", f->spec, "The job spec the trace belongs to")->required();
  cmd->add_option("--trace-out", f->trace_out, "Write the replay's own trace to this file");
  AddLocalRunFlags(cmd, f->local, "Keep the workspaces (WORKDIR/replay)");
  cmd->callback([f, &exit_code] { exit_code = Replay(*f); });
}

}  // namespace hollerith::cli
