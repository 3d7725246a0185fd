#include "common/runner/card_limits.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>

#include "common/spec/quantities.h"

namespace hollerith {

namespace {

bool Mentions(std::string_view text, std::initializer_list<std::string_view> phrases) {
  for (std::string_view p : phrases) {
    if (text.find(p) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::vector<SpawnRlimit> RlimitsFor(const CardLimits& limits, uint64_t extra_processes) {
  std::vector<SpawnRlimit> out;
  if (limits.memory_bytes != 0) {
    out.push_back({RLIMIT_DATA, limits.memory_bytes, limits.memory_bytes});
  }
  if (limits.cpu.count() > 0) {
    const rlim_t seconds = static_cast<rlim_t>((limits.cpu.count() + 999) / 1000);
    out.push_back({RLIMIT_CPU, seconds, seconds + 1});
  }
  if (limits.files != 0) out.push_back({RLIMIT_NOFILE, limits.files, limits.files});
  if (limits.processes != 0) {
    const rlim_t n = limits.processes + extra_processes;
    out.push_back({RLIMIT_NPROC, n, n});
  }
  return out;
}

uint64_t OwnThreadCount() {
  // /proc/self/stat: "pid (comm) state ..."; num_threads is the 20th field, the 18th after ')'.
  int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::array<char, 1024> buf;
  const ssize_t n = ::read(fd, buf.data(), buf.size() - 1);
  ::close(fd);
  if (n <= 0) return 0;
  std::string_view text(buf.data(), static_cast<size_t>(n));
  size_t pos = text.rfind(')');
  if (pos == std::string_view::npos) return 0;
  for (int field = 0; field < 18 && pos != std::string_view::npos; ++field) {
    pos = text.find(' ', pos + 1);
  }
  if (pos == std::string_view::npos) return 0;
  uint64_t count = 0;
  for (size_t i = pos + 1; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    count = count * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  return count;
}

std::string LimitBreach(const CardLimits& limits, int wait_status,
                        std::chrono::milliseconds cpu_time, std::string_view stderr_text) {
  const bool signaled = WIFSIGNALED(wait_status);
  const int sig = signaled ? WTERMSIG(wait_status) : 0;
  if (limits.cpu.count() > 0) {
    const auto allowed = std::chrono::milliseconds((limits.cpu.count() + 999) / 1000 * 1000);
    if (sig == SIGXCPU || (sig == SIGKILL && cpu_time >= allowed)) {
      return "killed: cpu limit " + FormatDuration(limits.cpu) + " exceeded";
    }
  }
  if (limits.memory_bytes != 0 &&
      Mentions(stderr_text,
               {"Cannot allocate memory", "cannot allocate memory", "MemoryError", "out of memory",
                "Out of memory", "std::bad_alloc", "memory exhausted"})) {
    return "memory limit " + FormatSize(limits.memory_bytes) + " exceeded (an allocation failed)";
  }
  if (limits.files != 0 && Mentions(stderr_text, {"Too many open files"})) {
    return "files limit " + std::to_string(limits.files) + " exceeded (too many open files)";
  }
  if (limits.processes != 0 &&
      Mentions(stderr_text, {"Cannot fork", "fork: Resource temporarily unavailable", "fork: retry",
                             "can't fork", "BlockingIOError"})) {
    return "processes limit " + std::to_string(limits.processes) + " exceeded (a fork failed)";
  }
  return "";
}

}  // namespace hollerith
