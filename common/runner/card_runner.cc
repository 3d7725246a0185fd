#include "common/runner/card_runner.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <array>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <cerrno>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>

#include "common/runner/card_limits.h"
#include "common/runner/output_capture.h"
#include "common/runner/path_lookup.h"
#include "common/runner/process_spawn.h"
#include "common/spec/limits.h"
#include "common/spec/quantities.h"

namespace hollerith {

namespace {

using Clock = std::chrono::steady_clock;

// What every card sees besides its spec's `env` (which may replace any of these): nothing of the
// daemon's own environment ever reaches a card.
EnvBlock::Vars BaseEnvironment(const std::filesystem::path& workspace) {
  return {{"PATH", kCardDefaultPath}, {"HOME", workspace.string()}, {"LANG", "C.UTF-8"}};
}

std::chrono::milliseconds CpuTime(const struct rusage& usage) {
  auto ms = [](const struct timeval& tv) {
    return std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

std::string SignalDescription(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  std::string text = "killed by signal " + std::to_string(sig);
  if (abbrev != nullptr) text += std::string(" (SIG") + abbrev + ")";
  return text;
}

std::chrono::milliseconds Elapsed(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from);
}

}  // namespace

struct ProcessCardRunner::Impl : std::enable_shared_from_this<Impl> {
  enum class Stop { kNone, kTimeout, kCancel };

  struct Card;

  struct Stream {
    Stream(asio::io_context& io, const Card& card, size_t limit, uint64_t seq, const char* suffix)
        : pipe(io), capture(limit, card.workspace, card.id, seq, suffix) {}
    asio::posix::stream_descriptor pipe;
    OutputCapture capture;
    std::array<char, 16384> buffer;  // deliberately uninitialised
  };

  // State of a card that runs as a process; absent for built-ins.
  struct Process {
    Process(asio::io_context& io, const Card& card, size_t limit)
        : pidfd(io),
          out(io, card, limit, card.handle, "stdout"),
          err(io, card, limit, card.handle, "stderr"),
          drain(io) {}
    pid_t pid = -1;  // and process group id
    asio::posix::stream_descriptor pidfd;
    Stream out;
    Stream err;
    asio::steady_timer drain;  // bounds the wait for EOF once the process has exited
    bool reaped = false;
    bool status_lost = false;
    int wait_status = 0;
    std::chrono::milliseconds cpu_time{0};
    bool term_sent = false;
    bool kill_sent = false;

    Stream& stream(int which) { return which == 0 ? out : err; }
    bool pipes_open() const { return out.pipe.is_open() || err.pipe.is_open(); }
  };

  struct Card {
    Card(asio::io_context& io, uint64_t h, const CardSpec& spec, const CardLaunch& launch, Done d)
        : handle(h),
          id(spec.id),
          timeout(spec.timeout),
          kill_grace(launch.kill_grace),
          output_drain(launch.output_drain),
          done(std::move(d)),
          deadline(io) {}
    uint64_t handle;
    std::string id;
    std::function<void(bool, uint64_t, std::string_view)> on_output;
    std::filesystem::path workspace;  // only set for processes (spill files go there)
    CardLimits limits;                // in force, defaults applied (processes only)
    std::chrono::milliseconds timeout;
    std::chrono::milliseconds kill_grace;
    std::chrono::milliseconds output_drain;
    Done done;
    // Timeout, then kill grace (processes); end of sleep or timeout (sleep built-in). Handlers
    // carry the generation they were armed in, so a wait that completed just before a re-arm is
    // ignored.
    asio::steady_timer deadline;
    uint64_t deadline_gen = 0;
    bool sleep_times_out = false;
    Stop stop = Stop::kNone;
    Clock::time_point started;
    Clock::time_point spawned;  // processes: when posix_spawn returned
    Clock::time_point ended;
    std::unique_ptr<Process> process;  // declared last: destroyed before what its captures use
  };

  Impl(asio::io_context& context, CardSandbox box) : io(context), sandbox(std::move(box)) {
    spawn_user.uid = sandbox.user.uid;
    spawn_user.gid = sandbox.user.gid;
    spawn_user.groups = sandbox.user.groups;
  }

  asio::io_context& io;
  CardSandbox sandbox;
  SpawnUser spawn_user;
  std::unordered_map<uint64_t, std::unique_ptr<Card>> cards;
  PathLookup paths;  // bare program names resolved once, not by execvp per card
  uint64_t last_handle = 0;
  bool shut_down = false;

  // Wraps a completion handler for card `handle`: it runs only while the runner is alive and the
  // card is still in flight, and then gets the card by reference.
  template <typename Fn>
  auto ForCard(uint64_t handle, Fn fn) {
    return [weak = weak_from_this(), handle, fn](const auto&... args) {
      std::shared_ptr<Impl> self = weak.lock();
      if (!self || self->shut_down) return;
      auto it = self->cards.find(handle);
      if (it == self->cards.end()) return;
      fn(*self, *it->second, args...);
    };
  }

  uint64_t Run(const CardSpec& spec, const CardLaunch& launch, Done done) {
    const uint64_t handle = ++last_handle;
    switch (spec.builtin) {
      case BuiltinKind::kNoop:
        asio::post(io, [weak = weak_from_this(), done = std::move(done)] {
          std::shared_ptr<Impl> self = weak.lock();
          if (!self || self->shut_down) return;
          CardResult result;
          result.exit_code = 0;
          done(std::move(result));
        });
        return handle;
      case BuiltinKind::kSleep:
        StartSleep(handle, spec, launch, std::move(done));
        return handle;
      case BuiltinKind::kNone:
        break;
    }
    StartProcess(handle, spec, launch, std::move(done));
    return handle;
  }

  void PostFailure(Done done, std::string error) {
    asio::post(io, [weak = weak_from_this(), done = std::move(done), error = std::move(error)] {
      std::shared_ptr<Impl> self = weak.lock();
      if (!self || self->shut_down) return;
      CardResult result;
      result.error = error;
      done(std::move(result));
    });
  }

  void StartSleep(uint64_t handle, const CardSpec& spec, const CardLaunch& launch, Done done) {
    auto card = std::make_unique<Card>(io, handle, spec, launch, std::move(done));
    card->started = Clock::now();
    if (spec.timeout.count() > 0 && spec.timeout < spec.sleep) {
      card->sleep_times_out = true;
      ArmDeadline(*card, spec.timeout);
    } else {
      ArmDeadline(*card, spec.sleep);
    }
    cards.emplace(handle, std::move(card));
  }

  void StartProcess(uint64_t handle, const CardSpec& spec, const CardLaunch& launch, Done done) {
    std::vector<char*> argv;
    SpawnRequest request;
    if (!spec.shell.empty()) {
      argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
              const_cast<char*>(spec.shell.c_str()), nullptr};
      request.program = "/bin/sh";
    } else if (!spec.argv().empty()) {
      argv.reserve(spec.argv().size() + 1);
      for (const std::string& arg : spec.argv()) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      request.program = spec.argv()[0].c_str();
      request.search_path = true;
    } else {
      PostFailure(std::move(done), "card '" + spec.id + "' has nothing to run");
      return;
    }
    const EnvBlock::Vars base = BaseEnvironment(launch.workspace);
    EnvBlock env({&base, &spec.env(), &launch.extra_env});
    request.argv = argv.data();
    request.envp = env.data();
    request.workspace = launch.workspace.c_str();
    // Precedence: the card's own limits, then its stack's memory request, then the node's defaults.
    CardLimits own = spec.limits();
    if (own.memory_bytes == 0) own.memory_bytes = launch.memory_request;
    const CardLimits limits = WithDefaults(own, sandbox.defaults);
    // RLIMIT_NPROC counts the user's every task: cards running as the daemon's own user would
    // find its threads already counted against them.
    const uint64_t own_tasks =
        limits.processes != 0 && !sandbox.user.switches ? OwnThreadCount() : 0;
    const std::vector<SpawnRlimit> rlimits = RlimitsFor(limits, own_tasks);
    request.rlimits = rlimits;
    if (sandbox.user.switches) request.user = &spawn_user;
    std::optional<std::string> resolved;
    if (request.search_path) resolved = paths.Find(request.program, PathOf(request.envp));
    if (resolved) {
      request.program = resolved->c_str();
      request.search_path = false;
    }

    const Clock::time_point started = Clock::now();
    Result<SpawnedProcess> spawned = SpawnInProcessGroup(request);
    if (!spawned.ok() && resolved) {  // the file found earlier is gone: search again, as execvp
      paths.Forget(spec.argv()[0], PathOf(request.envp));
      request.program = spec.argv()[0].c_str();
      request.search_path = true;
      spawned = SpawnInProcessGroup(request);
    }
    if (!spawned.ok()) {
      // execve fails with EAGAIN when the card's user already has as many processes as the
      // card may (RLIMIT_NPROC is per user).
      const bool over_processes =
          limits.processes != 0 &&
          spawned.message().ends_with(std::generic_category().message(EAGAIN));
      PostFailure(std::move(done),
                  over_processes
                      ? "processes limit " + std::to_string(limits.processes) +
                            " exceeded (its user already runs that many): " + spawned.message()
                      : spawned.message());
      return;
    }

    auto card = std::make_unique<Card>(io, handle, spec, launch, std::move(done));
    card->started = started;
    card->spawned = Clock::now();
    card->workspace = launch.workspace;
    card->limits = limits;
    card->on_output = launch.on_output;
    card->process = std::make_unique<Process>(io, *card, launch.capture_limit);
    Process& p = *card->process;
    p.pid = spawned->pid;
    asio::error_code failure;
    auto adopt = [&failure](asio::posix::stream_descriptor& d, int fd) {
      asio::error_code ec;
      if (!failure) d.assign(fd, ec);
      if (failure || ec) {
        ::close(fd);
        if (!failure) failure = ec;
      }
    };
    adopt(p.pidfd, spawned->pidfd);
    adopt(p.out.pipe, spawned->stdout_fd);
    adopt(p.err.pipe, spawned->stderr_fd);
    if (failure) {
      ::kill(-p.pid, SIGKILL);
      ReapBlocking(p.pid);
      PostFailure(std::move(card->done),
                  "cannot watch '" + std::string(request.program) + "': " + failure.message());
      return;
    }

    // The pidfd wait is queued before the loop can poll again, so even an instant exit's edge is
    // seen (asio registers descriptors edge-triggered).
    WaitForExit(*card);
    StartRead(*card, 0);
    StartRead(*card, 1);
    if (card->timeout.count() > 0) ArmDeadline(*card, card->timeout);
    cards.emplace(handle, std::move(card));
  }

  static void ReapBlocking(pid_t pid) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }

  void WaitForExit(Card& card) {
    card.process->pidfd.async_wait(
        asio::posix::stream_descriptor::wait_read,
        ForCard(card.handle, [](Impl& self, Card& c, const asio::error_code& ec) {
          if (ec != asio::error::operation_aborted) self.OnExit(c);
        }));
  }

  void StartRead(Card& card, int which) {
    Stream& s = card.process->stream(which);
    s.pipe.async_read_some(
        asio::buffer(s.buffer),
        ForCard(card.handle, [which](Impl& self, Card& c, const asio::error_code& ec, size_t n) {
          self.OnRead(c, which, ec, n);
        }));
  }

  void OnRead(Card& card, int which, const asio::error_code& ec, size_t n) {
    Process& p = *card.process;
    Stream& s = p.stream(which);
    if (!s.pipe.is_open()) return;  // we closed it (drain bound or cancel)
    if (n > 0) {
      const std::string_view data(s.buffer.data(), n);
      if (card.on_output) card.on_output(which == 1, s.capture.total_bytes(), data);
      s.capture.Append(data);
    }
    if (!ec) {
      StartRead(card, which);
      return;
    }
    asio::error_code ignored;
    s.pipe.close(ignored);  // EOF (or a read error, which ends the stream just the same)
    if (p.reaped && !p.pipes_open()) Finish(card);
  }

  void OnExit(Card& card) {
    Process& p = *card.process;
    if (p.reaped) return;
    // When stopping, stray group members die with the leader; signal while the leader's pid (the
    // group id) is still reserved by its zombie.
    if (card.stop != Stop::kNone && !p.kill_sent) {
      ::kill(-p.pid, SIGKILL);
      p.kill_sent = true;
    }
    int status = 0;
    struct rusage usage {};
    pid_t r;
    do {
      r = ::wait4(p.pid, &status, WNOHANG, &usage);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {  // not actually exited (cannot happen with a readable pidfd); keep watching
      WaitForExit(card);
      return;
    }
    p.reaped = true;
    p.status_lost = r < 0;  // someone else reaped it (a waitpid(-1) elsewhere in the process)
    p.wait_status = status;
    p.cpu_time = CpuTime(usage);
    card.ended = Clock::now();
    asio::error_code ignored;
    p.pidfd.close(ignored);
    DisarmDeadline(card);
    if (!p.pipes_open()) {
      Finish(card);
      return;
    }
    ArmDrain(card, card.output_drain);
  }

  void ArmDrain(Card& card, std::chrono::milliseconds after) {
    Process& p = *card.process;
    p.drain.expires_after(after);
    p.drain.async_wait(ForCard(card.handle, [](Impl& self, Card& c, const asio::error_code&) {
      // Stray processes still hold the pipes: stop reading and report what we have.
      asio::error_code ignored;
      c.process->out.pipe.close(ignored);
      c.process->err.pipe.close(ignored);
      self.Finish(c);
    }));
  }

  void ArmDeadline(Card& card, std::chrono::milliseconds after) {
    const uint64_t gen = ++card.deadline_gen;
    card.deadline.expires_after(after);
    card.deadline.async_wait(
        ForCard(card.handle, [gen](Impl& self, Card& c, const asio::error_code&) {
          if (gen == c.deadline_gen) self.OnDeadline(c);
        }));
  }

  void DisarmDeadline(Card& card) {
    ++card.deadline_gen;
    card.deadline.cancel();
  }

  void OnDeadline(Card& card) {
    if (!card.process) {  // sleep built-in: slept enough, timed out, or cancelled
      if (card.stop == Stop::kNone && card.sleep_times_out) card.stop = Stop::kTimeout;
      card.ended = Clock::now();
      Finish(card);
      return;
    }
    Process& p = *card.process;
    if (p.reaped) return;
    if (!p.term_sent) {
      if (card.stop == Stop::kNone) card.stop = Stop::kTimeout;
      ::kill(-p.pid, SIGTERM);
      p.term_sent = true;
      ArmDeadline(card, card.kill_grace);
    } else if (!p.kill_sent) {
      ::kill(-p.pid, SIGKILL);
      p.kill_sent = true;
    }
  }

  void Cancel(uint64_t handle) {
    auto it = cards.find(handle);
    if (it == cards.end()) return;
    Card& card = *it->second;
    if (card.stop != Stop::kNone) return;  // already being stopped
    card.stop = Stop::kCancel;
    if (!card.process) {
      ArmDeadline(card, std::chrono::milliseconds(0));
      return;
    }
    Process& p = *card.process;
    if (!p.reaped) {
      ::kill(-p.pid, SIGTERM);
      p.term_sent = true;
      ArmDeadline(card, card.kill_grace);
    } else {  // exited, waiting for stray group members to release the pipes: end it now
      ::kill(-p.pid, SIGKILL);
      p.kill_sent = true;
      ArmDrain(card, std::chrono::milliseconds(0));
    }
  }

  CardResult ResultOf(Card& card) {
    CardResult result;
    result.duration = Elapsed(card.started, card.ended);
    if (card.process) {
      Process& p = *card.process;
      if (p.status_lost) {
        result.error = "exit status of pid " + std::to_string(p.pid) + " was lost";
      } else if (WIFEXITED(p.wait_status)) {
        result.exit_code = WEXITSTATUS(p.wait_status);
      } else if (WIFSIGNALED(p.wait_status)) {
        result.term_signal = WTERMSIG(p.wait_status);
        result.error = SignalDescription(result.term_signal);
      }
      result.out = p.out.capture.Finish();
      result.err = p.err.capture.Finish();
      if (!p.status_lost && card.stop == Stop::kNone &&
          !(WIFEXITED(p.wait_status) && result.exit_code == 0)) {
        std::string breach = LimitBreach(card.limits, p.wait_status, p.cpu_time, result.err.text);
        if (!breach.empty()) result.error = std::move(breach);
      }
      result.spawn =
          std::chrono::duration_cast<std::chrono::microseconds>(card.spawned - card.started);
    } else if (card.stop == Stop::kNone) {
      result.exit_code = 0;
    }
    if (card.stop == Stop::kTimeout) {
      result.timed_out = true;
      result.error = "timed out after " + FormatDuration(card.timeout);
    } else if (card.stop == Stop::kCancel) {
      result.error = "cancelled";
    }
    return result;
  }

  // Reports the card and forgets it. `card` is gone afterwards; `done` may re-enter the runner.
  void Finish(Card& card) {
    CardResult result = ResultOf(card);
    Done done = std::move(card.done);
    cards.erase(card.handle);
    done(std::move(result));
  }

  void Shutdown() {
    shut_down = true;
    for (auto& [handle, card] : cards) {
      if (!card->process) continue;
      Process& p = *card->process;
      ::kill(-p.pid, SIGKILL);
      if (!p.reaped) ReapBlocking(p.pid);
    }
    cards.clear();
  }
};

ProcessCardRunner::ProcessCardRunner(asio::io_context& io, CardSandbox sandbox)
    : impl_(std::make_shared<Impl>(io, std::move(sandbox))) {}

ProcessCardRunner::~ProcessCardRunner() { impl_->Shutdown(); }

uint64_t ProcessCardRunner::Run(const CardSpec& card, const CardLaunch& launch, Done done) {
  return impl_->Run(card, launch, std::move(done));
}

void ProcessCardRunner::Cancel(uint64_t handle) { impl_->Cancel(handle); }

bool ProcessCardRunner::ReadOutput(uint64_t handle, bool err, size_t from, size_t max,
                                   std::string* data, size_t* total) {
  auto it = impl_->cards.find(handle);
  if (it == impl_->cards.end() || !it->second->process) return false;
  const OutputCapture& capture =
      err ? it->second->process->err.capture : it->second->process->out.capture;
  *total = capture.total_bytes();
  *data = capture.Read(from, max);
  return true;
}

}  // namespace hollerith
