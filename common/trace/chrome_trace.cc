#include "common/trace/chrome_trace.h"

#include "common/base/json_text.h"

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

namespace hollerith {
namespace {

using nlohmann::json;

json VcToJson(const JobSpec& job, const VectorClock& vc) {
  json out = json::object();
  for (const auto& [stack, count] : vc.entries()) out[StackDisplayName(job, stack)] = count;
  return out;
}

const char* Phase(EventKind kind) {
  switch (kind) {
    case EventKind::kCardStarted:
      return "B";
    case EventKind::kCardFinished:
    case EventKind::kCardCached:
    case EventKind::kCardFailed:
      return "E";
    default:
      return "i";
  }
}

// A field whose value does not fit: a float, or an integer out of the field's range.
class BadNumber : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `v` as a T if it is a JSON integer T can hold; nlohmann's get<T>() would convert a float or a
// number out of range with undefined behaviour.
template <typename T>
T Integer(const json& v, const char* key) {
  using Limits = std::numeric_limits<T>;
  if (v.is_number_unsigned()) {
    const auto n = v.get<uint64_t>();
    if (n <= static_cast<uint64_t>(Limits::max())) return static_cast<T>(n);
  } else if (v.is_number_integer()) {
    const auto n = v.get<int64_t>();
    if (n < 0 ? Limits::is_signed && n >= static_cast<int64_t>(Limits::min())
              : static_cast<uint64_t>(n) <= static_cast<uint64_t>(Limits::max())) {
      return static_cast<T>(n);
    }
  }
  throw BadNumber(std::string("'") + key + "' is not an integer in range: " + v.dump());
}

template <typename T>
T IntegerField(const json& obj, const char* key, T fallback) {
  auto it = obj.find(key);
  return it == obj.end() ? fallback : Integer<T>(*it, key);
}

}  // namespace

void WriteChromeTrace(const JobSpec& job, const Trace& trace, std::ostream& out) {
  const bool job_level_only = job.stacks.empty();
  out << "{\"displayTimeUnit\":\"ms\",\"otherData\":" << JsonText(json{{"job", job.name}})
      << ",\"traceEvents\":[\n";
  bool first = true;
  auto emit = [&](const json& e) {
    if (!first) out << ",\n";
    first = false;
    out << JsonText(e);
  };
  for (size_t n = 0; n < trace.nodes().size(); ++n) {
    emit({{"ph", "M"},
          {"name", "process_name"},
          {"pid", n},
          {"args", {{"name", trace.nodes()[n]}}}});
  }
  for (const TraceEvent& e : trace.events()) {
    bool card_level = e.kind != EventKind::kJobSubmitted && e.kind != EventKind::kJobFinished;
    bool has_card = card_level && e.kind != EventKind::kStackPlaced &&
                    e.kind != EventKind::kStackLost && e.kind != EventKind::kFanOut;
    std::string name = EventKindName(e.kind);
    if (has_card && !job_level_only) name = job.card_name(e.card);
    json args = {
        {"job", job.name},      {"kind", EventKindName(e.kind)},
        {"attempt", e.attempt}, {"node", trace.nodes().empty() ? "" : trace.nodes()[e.node]},
        {"lamport", e.lamport}, {"vc", VcToJson(job, e.vc)}};
    if (card_level) args["stack"] = StackDisplayName(job, e.card.stack);
    if (has_card) {
      args["card"] = job.card_name(e.card);
      args["try"] = e.try_no;
    }
    if (e.kind == EventKind::kRelease) args["target"] = job.card_name(e.target);
    if (e.kind == EventKind::kCardFinished || e.kind == EventKind::kCardCached ||
        e.kind == EventKind::kCardFailed || e.kind == EventKind::kFanOut) {
      args["exit_code"] = e.exit_code;
    }
    if (e.detail != 0) args["detail"] = trace.detail(e);
    json ev = {{"name", name},           {"cat", EventKindName(e.kind)},
               {"ph", Phase(e.kind)},    {"ts", e.wall_us},
               {"pid", e.node},          {"tid", card_level ? e.card.stack + 1 : 0},
               {"args", std::move(args)}};
    if (std::string(Phase(e.kind)) == "i") ev["s"] = "t";
    emit(ev);
  }
  out << "\n]}\n";
}

Status WriteChromeTraceFile(const JobSpec& job, const Trace& trace, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Error("cannot write trace " + path);
  WriteChromeTrace(job, trace, out);
  out.flush();
  if (!out) return Status::Error("cannot write trace " + path);
  return Status::Ok();
}

Result<TraceOfJob> ReadChromeTrace(std::shared_ptr<const JobSpec> job_ptr, std::istream& in,
                                   const FanOutExpander& expand) {
  json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("traceEvents") ||
      !doc["traceEvents"].is_array()) {
    return Status::Error("not a Hollerith trace (expected a Chrome Trace JSON object)");
  }
  std::unordered_map<std::string, uint32_t> stacks;
  std::unordered_map<std::string, CardRef> cards;
  auto index_from = [&](uint32_t first) {
    const JobSpec& job = *job_ptr;
    for (uint32_t s = first; s < job.stacks.size(); ++s) {
      stacks[StackDisplayName(job, s)] = s;
      for (uint32_t c = 0; c < job.stacks[s].cards.size(); ++c) {
        cards[job.card_name({s, c})] = {s, c};
      }
    }
  };
  index_from(0);
  Trace trace;
  size_t index = 0;
  for (const json& ev : doc["traceEvents"]) {
    ++index;
    if (!ev.is_object()) continue;
    const std::string where = "trace event " + std::to_string(index);
    try {
      if (ev.value("ph", "") == "M") continue;
      if (!ev.contains("args") || !ev["args"].is_object()) {
        return Status::Error(where + ": no args");
      }
      const json& a = ev["args"];
      TraceEvent e;
      if (!ParseEventKind(a.value("kind", ""), &e.kind)) {
        return Status::Error(where + ": unknown kind '" + a.value("kind", "") + "'");
      }
      e.attempt = IntegerField<uint32_t>(a, "attempt", 0);
      e.try_no = IntegerField<uint32_t>(a, "try", 0);
      e.node = trace.NodeIndex(a.value("node", ""));
      e.lamport = IntegerField<uint64_t>(a, "lamport", 0);
      e.wall_us = IntegerField<int64_t>(ev, "ts", 0);
      e.exit_code = IntegerField<int>(a, "exit_code", 0);
      e.detail = trace.Detail(a.value("detail", ""));
      if (a.contains("card")) {
        auto it = cards.find(a["card"].get<std::string>());
        if (it == cards.end())
          return Status::Error(where + ": card not in the spec: " + a["card"].dump());
        e.card = it->second;
      } else if (a.contains("stack")) {
        auto it = stacks.find(a["stack"].get<std::string>());
        if (it == stacks.end())
          return Status::Error(where + ": stack not in the spec: " + a["stack"].dump());
        e.card = {it->second, 0};
      }
      if (a.contains("target")) {
        auto it = cards.find(a["target"].get<std::string>());
        if (it == cards.end()) return Status::Error(where + ": target not in the spec");
        e.target = it->second;
      }
      std::vector<VectorClock::Entry> entries;
      if (a.contains("vc")) {
        for (const auto& [name, count] : a["vc"].items()) {
          auto it = stacks.find(name);
          if (it == stacks.end())
            return Status::Error(where + ": clock names unknown stack " + name);
          entries.emplace_back(it->second, Integer<uint64_t>(count, "vc"));
        }
      }
      e.vc = VectorClock(std::move(entries));
      if (e.kind == EventKind::kFanOut && e.exit_code == 0) {
        if (!expand)
          return Status::Error(where + ": a run-time matrix, which this reader cannot make");
        const auto first = static_cast<uint32_t>(job_ptr->stacks.size());
        auto made = expand(*job_ptr, e.card.stack, trace.detail(e));
        if (!made.ok()) return Status::Error(where + ": " + made.message());
        job_ptr = *made;
        index_from(first);
      }
      trace.Add(std::move(e));
    } catch (const json::exception& ex) {
      return Status::Error(where + ": malformed: " + ex.what());
    } catch (const BadNumber& ex) {
      return Status::Error(where + ": malformed: " + ex.what());
    }
  }
  return TraceOfJob{std::move(trace), std::move(job_ptr)};
}

Result<Trace> ReadChromeTrace(const JobSpec& job, std::istream& in) {
  // Not owned: `job` outlives the call.
  auto read = ReadChromeTrace(
      std::shared_ptr<const JobSpec>(std::shared_ptr<const JobSpec>(), &job), in, nullptr);
  if (!read.ok()) return read.status();
  return std::move(read->trace);
}

Result<Trace> ReadChromeTraceFile(const JobSpec& job, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot read trace " + path);
  return ReadChromeTrace(job, in);
}

Result<TraceOfJob> ReadChromeTraceFile(std::shared_ptr<const JobSpec> job, const std::string& path,
                                       const FanOutExpander& expand) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot read trace " + path);
  return ReadChromeTrace(std::move(job), in, expand);
}

}  // namespace hollerith
