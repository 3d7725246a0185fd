#include "proto/wire.h"

#include <algorithm>
#include <regex>

#include "common/spec/limits.h"
#include "common/spec/quantities.h"
#include "common/spec/workspace_path.h"

namespace hollerith::wire {
namespace {

OutputDigests DigestsFromProto(const google::protobuf::RepeatedPtrField<v1::OutputDigest>& in) {
  OutputDigests out;
  for (const auto& d : in) out.emplace_back(d.path(), d.sha256());
  return out;
}

}  // namespace

void ToProto(const OutputDigests& digests,
             google::protobuf::RepeatedPtrField<v1::OutputDigest>* out) {
  for (const auto& [path, digest] : digests) {
    auto* d = out->Add();
    d->set_path(path);
    d->set_sha256(digest);
  }
}

bool ValidJobId(const std::string& job_id) {
  // NAME-N: a job name and a decimal number.
  return IsValidId(job_id, kMaxJobNameLength + 21);
}

Status ValidateHello(const v1::WorkerMessage& first) {
  if (!first.has_hello()) {
    return Status::InvalidArgument("the first message on a session must be a hello");
  }
  const auto& h = first.hello();
  static const std::regex kName("[A-Za-z0-9_.-]{1,64}");
  if (!std::regex_match(h.name(), kName)) {
    return Status::InvalidArgument("worker name must match [A-Za-z0-9_.-]{1,64}, got '" +
                                   h.name().substr(0, 80) + "'");
  }
  if (h.slots() == 0 || h.slots() > (1u << 20)) {
    return Status::InvalidArgument("worker slots must be 1..1048576");
  }
  if (h.has_capacity()) {
    if (auto capacity = FromProto(h.capacity()); !capacity.ok()) {
      return Status::InvalidArgument("bad worker capacity: " + capacity.message());
    }
  }
  for (const auto& held : h.held()) {
    if (held.job_id().empty() || held.job_id().size() > 256 || held.attempt() == 0) {
      return Status::InvalidArgument(
          "bad held stack in the hello: a job id and an attempt >= 1 are required");
    }
  }
  for (const auto& kv : h.labels()) {
    if (kv.key().empty() || kv.key().size() > 64 || kv.value().size() > 256) {
      return Status::InvalidArgument("bad worker label '" + kv.key().substr(0, 80) + "'");
    }
  }
  return Status::Ok();
}

void ToProto(const VectorClock& vc, v1::VectorClock* out) {
  for (const auto& [stack, count] : vc.entries()) {
    out->add_stacks(stack);
    out->add_counters(count);
  }
}

VectorClock FromProto(const v1::VectorClock& vc) {
  std::vector<VectorClock::Entry> entries;
  const int n = std::min(vc.stacks_size(), vc.counters_size());
  entries.reserve(n);
  for (int i = 0; i < n; ++i) entries.emplace_back(vc.stacks(i), vc.counters(i));
  return VectorClock(std::move(entries));
}

void ToProto(CardRef r, v1::CardRef* out) {
  out->set_stack(r.stack);
  out->set_card(r.card);
}

CardRef FromProto(const v1::CardRef& r) { return {r.stack(), r.card()}; }

void ToProto(const Resources& r, v1::Resources* out) {
  out->set_cpu_milli(r.cpu_milli);
  out->set_memory_bytes(r.memory_bytes);
  for (const auto& [name, amount] : r.named) {
    auto* n = out->add_named();
    n->set_name(name);
    n->set_amount(amount);
  }
}

Result<Resources> FromProto(const v1::Resources& in) {
  Resources r;
  if (in.cpu_milli() > kMaxCpuMilli || in.named_size() > static_cast<int>(kMaxNamedResources)) {
    return Status::Error("resources out of range");
  }
  r.cpu_milli = in.cpu_milli();
  r.memory_bytes = in.memory_bytes();
  for (const auto& n : in.named()) {
    if (!IsResourceName(n.name()) || n.name() == "cpu" || n.name() == "memory" ||
        n.amount() > kMaxNamedAmount || r.Named(n.name()) != 0) {
      return Status::Error("bad resource " + QuoteForMessage(n.name()));
    }
    r.SetNamed(n.name(), n.amount());
  }
  return r;
}

void ToProto(const StackSpec& stack, v1::StackDef* out) {
  out->set_id(stack.id);
  out->set_is_combine(stack.is_combine);
  ToProto(stack.resources, out->mutable_resources());
  for (const CardSpec& c : stack.cards) {
    auto* d = out->add_cards();
    d->set_id(c.id);
    d->set_shell(c.shell);
    for (const auto& a : c.argv()) d->add_argv(a);
    d->set_builtin(static_cast<v1::Builtin>(c.builtin));
    d->set_sleep_ms(c.sleep.count());
    for (CardRef r : c.after) ToProto(r, d->add_after());
    for (const auto& in : c.inputs) {
      auto* i = d->add_inputs();
      ToProto(in.from, i->mutable_from());
      i->set_path(in.path);
      i->set_dest(in.dest);
    }
    for (const auto& o : c.outputs) d->add_outputs(o);
    for (const auto& [k, v] : c.env()) {
      auto* kv = d->add_env();
      kv->set_key(k);
      kv->set_value(v);
    }
    d->set_timeout_ms(c.timeout.count());
    d->set_retries(c.retries);
    if (!c.limits().empty()) {
      auto* l = d->mutable_limits();
      l->set_memory_bytes(c.limits().memory_bytes);
      l->set_cpu_ms(static_cast<uint64_t>(c.limits().cpu.count()));
      l->set_files(c.limits().files);
      l->set_processes(c.limits().processes);
    }
  }
}

namespace {

// A coordinator is not trusted with the node's file system: paths are checked again here.
Status CheckPath(const CardSpec& c, const char* what, const std::string& path) {
  if (const char* problem = WorkspacePathProblem(path)) {
    return Status::Error("card " + c.id + ": unsafe " + what + " path " + QuoteForMessage(path) +
                         ": the path " + problem);
  }
  return Status::Ok();
}

}  // namespace

Result<StackSpec> FromProto(const v1::StackDef& def, uint32_t stack_index) {
  StackSpec s;
  s.id = def.id();
  s.is_combine = def.is_combine();
  // Workspaces are named after the stack: an id must be a file name, never a path.
  if (!s.is_combine && !IsValidId(s.id)) {
    return Status::Error("bad stack id '" + s.id.substr(0, 80) + "'");
  }
  if (def.cards_size() == 0) return Status::Error("stack " + s.id + " has no cards");
  if (def.has_resources()) {
    auto resources = FromProto(def.resources());
    if (!resources.ok()) return Status::Error("stack " + s.id + ": " + resources.message());
    s.resources = std::move(resources).value();
  }
  for (const auto& d : def.cards()) {
    CardSpec c;
    c.id = d.id();
    if (!IsValidId(c.id)) return Status::Error("bad card id '" + c.id.substr(0, 80) + "'");
    c.shell = d.shell();
    if (d.argv_size() > 0) c.mutable_argv().assign(d.argv().begin(), d.argv().end());
    if (d.builtin() < v1::BUILTIN_NONE || d.builtin() > v1::BUILTIN_SLEEP) {
      return Status::Error("card " + c.id + ": unknown builtin");
    }
    c.builtin = static_cast<BuiltinKind>(d.builtin());
    if (c.builtin == BuiltinKind::kNone && c.shell.empty() && c.argv().empty()) {
      return Status::Error("card " + c.id + ": nothing to run");
    }
    c.sleep = Duration(d.sleep_ms());
    for (const auto& r : d.after()) c.after.push_back(FromProto(r));
    for (const auto& i : d.inputs()) {
      if (Status st = CheckPath(c, "input", i.dest()); !st.ok()) return st;
      if (Status st = CheckPath(c, "input", i.path()); !st.ok()) return st;
      c.inputs.push_back({FromProto(i.from()), i.path(), i.dest()});
    }
    for (const auto& o : d.outputs()) {
      if (Status st = CheckPath(c, "output", o); !st.ok()) return st;
      c.outputs.push_back(o);
    }
    for (const auto& kv : d.env()) c.mutable_env().emplace_back(kv.key(), kv.value());
    c.timeout = Duration(d.timeout_ms());
    c.retries = static_cast<int>(d.retries());
    if (d.has_limits()) {
      const auto& l = d.limits();
      if (l.files() > kMaxLimitCount || l.processes() > kMaxLimitCount) {
        return Status::Error("card " + c.id + ": limits out of range");
      }
      const uint64_t cpu_ms = std::min<uint64_t>(l.cpu_ms(), uint64_t{1} << 40);  // 35 years
      c.mutable_limits() = {l.memory_bytes(), Duration(static_cast<int64_t>(cpu_ms)), l.files(),
                            l.processes()};
    }
    s.cards.push_back(std::move(c));
  }
  (void)stack_index;
  return s;
}

void ToProto(const std::string& job_id, const AssignStackMsg& m, const StackSpec& spec,
             v1::Assignment* out) {
  out->set_job_id(job_id);
  out->set_stack(m.stack);
  out->set_attempt(m.attempt);
  out->set_priority(m.priority);
  ToProto(spec, out->mutable_spec());
  for (const auto& r : m.results) {
    auto* f = out->add_results();
    f->set_card_name(r.card_name);
    f->set_exit_code(r.exit_code);
    f->set_stdout_text(r.stdout_text);
  }
  for (const CachedCard& c : m.cached) ToProto(c, out->add_cached());
  out->set_lamport(m.lamport);
  if (!m.vc.empty()) ToProto(m.vc, out->mutable_vc());
}

AssignStackMsg FromProto(const v1::Assignment& a) {
  AssignStackMsg m;
  m.stack = a.stack();
  m.attempt = a.attempt();
  m.priority = std::clamp(a.priority(), kMinPriority, kMaxPriority);
  for (const auto& r : a.results())
    m.results.push_back({r.card_name(), r.exit_code(), r.stdout_text()});
  for (const auto& c : a.cached()) m.cached.push_back(FromProto(c));
  m.lamport = a.lamport();
  if (a.has_vc()) m.vc = FromProto(a.vc());
  return m;
}

void ToProto(const CachedCard& c, v1::CachedCard* out) {
  out->set_card(c.card);
  out->set_exit_code(c.exit_code);
  out->set_stdout_text(c.stdout_text);
  out->set_stdout_truncated(c.stdout_truncated);
  ToProto(c.outputs, out->mutable_outputs());
  out->set_from_job(c.from_job);
}

CachedCard FromProto(const v1::CachedCard& c) {
  return {c.card(),
          c.exit_code(),
          c.stdout_text().substr(0, kResultStdoutBound),
          c.stdout_truncated(),
          DigestsFromProto(c.outputs()),
          c.from_job()};
}

void ToProto(const std::string& job_id, const CacheHitMsg& m, v1::CacheHit* out) {
  out->set_job_id(job_id);
  out->set_stack(m.stack);
  out->set_attempt(m.attempt);
  ToProto(m.hit, out->mutable_hit());
  out->set_lamport(m.lamport);
}

CacheHitMsg FromProto(const v1::CacheHit& h) {
  return {h.stack(), h.attempt(), FromProto(h.hit()), h.lamport()};
}

void ToProto(const std::string& job_id, const ReleaseMsg& m, v1::Release* out) {
  out->set_job_id(job_id);
  ToProto(m.from, out->mutable_from());
  ToProto(m.to, out->mutable_to());
  out->set_attempt(m.attempt);
  ToProto(m.vc, out->mutable_vc());
  ToProto(m.outputs, out->mutable_outputs());
  out->set_lamport(m.lamport);
  if (m.also_from.empty()) return;
  out->mutable_also_from_stacks()->Reserve(static_cast<int>(m.also_from.size()));
  out->mutable_also_from_cards()->Reserve(static_cast<int>(m.also_from.size()));
  for (const CardRef& c : m.also_from) {
    out->add_also_from_stacks(c.stack);
    out->add_also_from_cards(c.card);
  }
}

ReleaseMsg FromProto(const v1::Release& r) {
  ReleaseMsg m{FromProto(r.from()),           FromProto(r.to()), r.attempt(), FromProto(r.vc()),
               DigestsFromProto(r.outputs()), r.lamport(),       {}};
  const int n = std::min(r.also_from_stacks_size(), r.also_from_cards_size());
  m.also_from.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) m.also_from.push_back({r.also_from_stacks(i), r.also_from_cards(i)});
  return m;
}

void ToProto(const std::string& job_id, const RetryMsg& m, v1::Retry* out) {
  out->set_job_id(job_id);
  ToProto(m.card, out->mutable_card());
  out->set_attempt(m.attempt);
  out->set_next_try(m.next_try);
  out->set_delay_ms(m.delay.count());
  out->set_lamport(m.lamport);
}

RetryMsg FromProto(const v1::Retry& r) {
  return {FromProto(r.card()), r.attempt(), r.next_try(), Duration(r.delay_ms()), r.lamport()};
}

void ToProto(const std::string& job_id, const SkipMsg& m, v1::Skip* out) {
  out->set_job_id(job_id);
  out->set_stack(m.stack);
  out->set_attempt(m.attempt);
  out->set_from_card(m.from_card);
  out->set_reason(m.reason);
  out->set_lamport(m.lamport);
}

SkipMsg FromProto(const v1::Skip& s) {
  return {s.stack(), s.attempt(), s.from_card(), s.reason(), s.lamport()};
}

void ToProto(const std::string& job_id, const CardStartedMsg& m, v1::CardStarted* out) {
  out->set_job_id(job_id);
  ToProto(m.card, out->mutable_card());
  out->set_attempt(m.attempt);
  out->set_try_no(m.try_no);
  ToProto(m.vc, out->mutable_vc());
  out->set_lamport(m.lamport);
  out->set_wall_us(m.wall_us);
}

CardStartedMsg FromProto(const v1::CardStarted& m, const std::string& node) {
  return {FromProto(m.card()), m.attempt(), m.try_no(), node,
          FromProto(m.vc()),   m.lamport(), m.wall_us()};
}

void ToProto(const std::string& job_id, const CardFinishedMsg& m, v1::CardFinished* out) {
  out->set_job_id(job_id);
  ToProto(m.card, out->mutable_card());
  out->set_attempt(m.attempt);
  out->set_try_no(m.try_no);
  ToProto(m.vc, out->mutable_vc());
  out->set_lamport(m.lamport);
  out->set_wall_us(m.wall_us);
  out->set_succeeded(m.succeeded);
  out->set_exit_code(m.exit_code);
  out->set_error(m.error);
  out->set_stdout_text(m.stdout_text);
  out->set_stdout_truncated(m.stdout_truncated);
  out->set_stderr_text(m.stderr_text);
  out->set_duration_ms(m.duration_ms);
  ToProto(m.outputs, out->mutable_outputs());
  out->set_cached_from(m.cached_from);
}

CardFinishedMsg FromProto(const v1::CardFinished& m, const std::string& node) {
  CardFinishedMsg out;
  out.card = FromProto(m.card());
  out.attempt = m.attempt();
  out.try_no = m.try_no();
  out.node = node;
  out.vc = FromProto(m.vc());
  out.lamport = m.lamport();
  out.wall_us = m.wall_us();
  out.succeeded = m.succeeded();
  out.exit_code = m.exit_code();
  out.error = m.error();
  out.stdout_text = m.stdout_text();
  out.stdout_truncated = m.stdout_truncated();
  out.stderr_text = m.stderr_text();
  out.duration_ms = m.duration_ms();
  out.outputs = DigestsFromProto(m.outputs());
  out.cached_from = m.cached_from();
  return out;
}

}  // namespace hollerith::wire
