#include "common/runner/process_spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string_view>
#include <system_error>

namespace hollerith {

namespace {

constexpr size_t kChildStack = 64 * 1024;
constexpr const char* kDefaultSearchPath = "/usr/local/bin:/usr/bin:/bin";

void CloseQuietly(int fd) {
  if (fd >= 0) ::close(fd);
}

// A pipe end numbered 0..2 (possible when the daemon runs with closed standard descriptors) would
// be clobbered by the child's own dup onto 0..2; move it out of the way.
int AboveStdio(int fd) {
  if (fd > 2 || fd < 0) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

Status MakePipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Error("cannot create pipe: " + ErrnoText(errno));
  fds[0] = AboveStdio(fds[0]);
  fds[1] = AboveStdio(fds[1]);
  if (fds[0] < 0 || fds[1] < 0) {
    int err = errno;
    CloseQuietly(fds[0]);
    CloseQuietly(fds[1]);
    return Status::Error("cannot create pipe: " + ErrnoText(err));
  }
  return Status::Ok();
}

// What the child needs, in the parent's memory (shared with CLONE_VM, a copy under TSan). The
// child reports a failed step through `failure`; the parent reads it once the child has exec'ed
// or exited.
// Where a child that could not exec says why: the lowest bytes of its stack mapping (far below
// its frames), a MAP_SHARED mapping, so that the parent reads it also when the child runs on a
// copy of the parent's memory instead of on the memory itself (see kCloneShare).
struct ChildFailure {
  const char* step = nullptr;  // a string literal: the same address in the parent
  int err = 0;
};

// TSan's clone interceptor cannot follow a child that shares the parent's memory (clang 14
// stops at a CHECK): under TSan the child gets a copy (fork semantics; still CLONE_VFORK).
#if defined(__SANITIZE_THREAD__)
constexpr int kCloneShare = 0;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr int kCloneShare = 0;
#else
constexpr int kCloneShare = CLONE_VM;
#endif
#else
constexpr int kCloneShare = CLONE_VM;
#endif

struct ChildArgs {
  const SpawnRequest* request = nullptr;
  const char* const* programs = nullptr;  // candidates to exec, in order (PATH search done here)
  int devnull = -1;
  int out_w = -1;
  int err_w = -1;
  ChildFailure* failure = nullptr;  // in the child's stack mapping, which is shared
};

// The kernel's struct sigaction, all zero: SIG_DFL, no flags, empty mask (its layout differs
// from glibc's, but zero is zero in every field; 4 words cover it on 64-bit targets).
struct KernelSigaction {
  unsigned long words[4] = {0, 0, 0, 0};
};

constexpr long kSigsetBytes = 8;  // _NSIG / 8, what rt_sig* take

[[noreturn]] void ChildFail(ChildArgs* a, const char* step, int err) {
  a->failure->step = step;
  a->failure->err = err;
  ::syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

// Runs in the child, on its own stack, sharing the parent's memory: raw system calls only (no
// allocation, no locks, no libc wrappers with process-wide side effects, nothing a sanitizer
// intercepts). Every signal is blocked on entry (the parent blocked them around clone).
__attribute__((no_sanitize("address", "thread", "undefined"))) int ChildMain(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  const SpawnRequest& r = *a->request;
  // Handlers are the parent's code: reset every signal to its default (also the ignored ones,
  // such as SIGPIPE, which exec would keep ignored) before unblocking anything.
  const KernelSigaction dfl;
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, kSigsetBytes);
  }
  // Own process group (pgid = pid), so a timeout can signal everything the card started.
  if (::syscall(SYS_setpgid, 0, 0) != 0) ChildFail(a, "setpgid", errno);
  if (::syscall(SYS_dup3, a->devnull, 0, 0) < 0) ChildFail(a, "stdin", errno);
  if (::syscall(SYS_dup3, a->out_w, 1, 0) < 0) ChildFail(a, "stdout", errno);
  if (::syscall(SYS_dup3, a->err_w, 2, 0) < 0) ChildFail(a, "stderr", errno);
  // Before dropping privileges: the workspace's parents need not be searchable by the card user.
  if (::syscall(SYS_chdir, r.workspace) != 0) ChildFail(a, "workspace", errno);
  for (const SpawnRlimit& l : r.rlimits) {
    struct rlimit value {
      l.soft, l.hard
    };
    if (::syscall(SYS_prlimit64, 0, l.resource, &value, nullptr) != 0) {
      ChildFail(a, "setrlimit", errno);
    }
  }
  if (r.user != nullptr) {
    if (::syscall(SYS_setgroups, r.user->groups.size(), r.user->groups.data()) != 0) {
      ChildFail(a, "setgroups", errno);
    }
    if (::syscall(SYS_setresgid, r.user->gid, r.user->gid, r.user->gid) != 0) {
      ChildFail(a, "setresgid", errno);
    }
    if (::syscall(SYS_setresuid, r.user->uid, r.user->uid, r.user->uid) != 0) {
      ChildFail(a, "setresuid", errno);
    }
  }
  // Descriptors the daemon leaked without O_CLOEXEC must not reach cards (nor keep pipes open).
  if (::syscall(SYS_close_range, 3, ~0u, 0) != 0) {
    for (int fd = 3; fd < 65536; ++fd) ::syscall(SYS_close, fd);
  }
  const uint64_t empty = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, nullptr, kSigsetBytes);
  int err = ENOENT;
  for (const char* const* p = a->programs; *p != nullptr; ++p) {
    ::syscall(SYS_execve, *p, r.argv, r.envp);
    // As execvp: a candidate that is missing or not a directory on the way is skipped; one that
    // cannot be executed is remembered (EACCES) but the search goes on; anything else stops it.
    if (errno == EACCES) {
      err = EACCES;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      err = errno;
      break;
    }
  }
  ChildFail(a, "exec", err);
}

// The value of PATH in `envp`, or the default search path.
std::string_view SearchPathOf(char* const* envp) {
  for (char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  }
  return kDefaultSearchPath;
}

// Where exec should look for `request.program`, in order.
std::vector<std::string> Candidates(const SpawnRequest& request) {
  const std::string_view program = request.program;
  if (!request.search_path || program.find('/') != std::string_view::npos) {
    return {std::string(program)};
  }
  std::vector<std::string> out;
  const std::string_view path = SearchPathOf(request.envp);
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string_view::npos) colon = path.size();
    std::string_view dir = path.substr(start, colon - start);
    if (dir.empty()) dir = ".";  // an empty entry means the working directory, as for execvp
    out.push_back(std::string(dir) + "/" + std::string(program));
    start = colon + 1;
  }
  return out;
}

int DevNull() {
  // Opened once, kept (O_CLOEXEC); the child dups it onto stdin.
  static const int fd = AboveStdio(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  return fd;
}

std::string StartError(const SpawnRequest& request, const char* step, int err) {
  std::string reason;
  struct stat st;
  if (std::strcmp(step, "workspace") == 0 && ::stat(request.workspace, &st) != 0) {
    reason = "workspace '" + std::string(request.workspace) + "': " + ErrnoText(errno);
  } else if (std::strcmp(step, "workspace") == 0 && !S_ISDIR(st.st_mode)) {
    reason = "workspace '" + std::string(request.workspace) + "' is not a directory";
  } else if (std::strcmp(step, "exec") == 0) {
    reason = ErrnoText(err);
  } else {
    reason = std::string(step) + ": " + ErrnoText(err);
  }
  return "cannot start '" + std::string(request.program) + "': " + reason;
}

void Reap(pid_t pid) {
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// The child's stack: one MAP_SHARED mapping per spawning thread, kept for the thread's life.
// Mapping and unmapping it per card made and evicted a shmem inode each time (~14 µs in a loop of
// one thread here) and, in the multi-threaded worker, made every munmap interrupt the other cores
// to flush their TLBs: 0.81x the worker's CPU for a job of `true` cards once it was kept. With
// CLONE_VFORK the child is done with the stack (exec'ed or exited) before clone returns, so the
// next spawn on the same thread can reuse it.
class ChildStack {
 public:
  ChildStack() = default;
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  ~ChildStack() {
    if (base_ != nullptr) ::munmap(base_, kChildStack);
  }
  // The mapping, made on first use; nullptr with errno set when it cannot be made.
  void* Get() {
    if (base_ == nullptr) {
      void* made = ::mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS | MAP_STACK, -1, 0);
      if (made == MAP_FAILED) return nullptr;
      base_ = made;
    }
    return base_;
  }

 private:
  void* base_ = nullptr;
};

// Starts the child; returns its pid and its pidfd (CLONE_PIDFD, close-on-exec), or pid -1 with
// `step`/`err` saying why.
pid_t CloneChild(ChildArgs& args, int& pidfd, const char*& step, int& err) {
  std::vector<std::string> candidates = Candidates(*args.request);
  std::vector<const char*> programs;
  programs.reserve(candidates.size() + 1);
  for (const std::string& c : candidates) programs.push_back(c.c_str());
  programs.push_back(nullptr);
  args.programs = programs.data();

  thread_local ChildStack child_stack;
  void* stack = child_stack.Get();
  if (stack == nullptr) {
    step = "mmap";
    err = errno;
    return -1;
  }
  auto* failure = new (stack) ChildFailure();
  args.failure = failure;
  // Blocked from before the child exists until it has reset its handlers: a signal must not run
  // one of the daemon's handlers on the child's stack, in the daemon's memory.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pidfd = -1;
  const pid_t pid = ::clone(ChildMain, static_cast<char*>(stack) + kChildStack,
                            kCloneShare | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &args, &pidfd);
  const int clone_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  const ChildFailure reported = *failure;  // CLONE_VFORK: the child has exec'ed or exited by now
  if (pid < 0) {
    step = "clone";
    err = clone_err;
    return -1;
  }
  if (reported.step != nullptr) {
    step = reported.step;
    err = reported.err;
    if (pidfd >= 0) ::close(pidfd);
    Reap(pid);
    return -1;
  }
  return pid;
}

}  // namespace

EnvBlock::EnvBlock(std::initializer_list<const Vars*> layers) {
  size_t n = 0;
  for (const Vars* v : layers) n += v->size();
  owned_.reserve(n);
  entries_.reserve(n + 1);
  for (const Vars* v : layers) {
    for (const auto& [key, value] : *v) Set(key, value);
  }
  entries_.push_back(nullptr);
}

void EnvBlock::Set(const std::string& key, const std::string& value) {
  std::string& entry = owned_.emplace_back();
  entry.reserve(key.size() + 1 + value.size());
  entry.append(key).append(1, '=').append(value);
  for (char*& existing : entries_) {
    if (std::strncmp(existing, key.data(), key.size()) == 0 && existing[key.size()] == '=') {
      existing = entry.data();
      return;
    }
  }
  entries_.push_back(entry.data());
}

Result<SpawnedProcess> SpawnInProcessGroup(const SpawnRequest& request) {
  if (DevNull() < 0) return Status::Error("cannot open /dev/null: " + ErrnoText(errno));
  int out[2];
  int err[2];
  if (Status s = MakePipe(out); !s.ok()) return s;
  if (Status s = MakePipe(err); !s.ok()) {
    CloseQuietly(out[0]);
    CloseQuietly(out[1]);
    return s;
  }

  ChildArgs args;
  args.request = &request;
  args.devnull = DevNull();
  args.out_w = out[1];
  args.err_w = err[1];
  const char* step = nullptr;
  int failure = 0;
  int pidfd = -1;
  const pid_t pid = CloneChild(args, pidfd, step, failure);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    return Status::Error(StartError(request, step, failure));
  }

  if (pidfd < 0) pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int e = errno;
    ::kill(-pid, SIGKILL);
    Reap(pid);
    ::close(out[0]);
    ::close(err[0]);
    return Status::Error("cannot watch '" + std::string(request.program) +
                         "': pidfd_open: " + ErrnoText(e));
  }
  return SpawnedProcess{pid, pidfd, out[0], err[0]};
}

}  // namespace hollerith
