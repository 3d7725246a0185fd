// hollerith-grpc-floor: the floor under chain_hop. A round trip on one gRPC callback bidi stream
// (the Session RPC of hollerith.v1) on loopback, in one process, measured two ways:
//   inline  — each side answers from inside its OnReadDone reaction (gRPC alone);
//   handoff — each side posts the message to an asio loop thread, which answers (what the
//             coordinator and the worker do: state lives on the loop, reactions only post).
// The echo side runs in a child process, as the coordinator does for a worker.
// A chain_hop hop is one message up and one message down, so it cannot beat one round trip here.
//
//   hollerith-grpc-floor [--round-trips N]   → p50/p99 µs per round trip, both ways
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "hollerith.grpc.pb.h"
#include "proto/rpc_runtime.h"

namespace {

using hollerith::v1::CoordinatorMessage;
using hollerith::v1::WorkerMessage;
using Clock = std::chrono::steady_clock;

// One asio loop on its own thread (or none: `post` runs the function inline).
class Loop {
 public:
  explicit Loop(bool enabled) {
    if (enabled) thread_ = std::thread([this] { io_.run(); });
  }
  ~Loop() {
    guard_.reset();
    if (thread_.joinable()) thread_.join();
  }
  template <typename F>
  void post(F&& f) {
    if (thread_.joinable()) {
      asio::post(io_, std::forward<F>(f));
    } else {
      f();
    }
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  std::thread thread_;
};

class EchoReactor : public grpc::ServerBidiReactor<WorkerMessage, CoordinatorMessage> {
 public:
  explicit EchoReactor(Loop& loop) : loop_(loop) { StartRead(&in_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    const uint64_t lamport = in_.lamport();
    loop_.post([this, lamport] {
      out_.set_lamport(lamport);
      StartWrite(&out_);
    });
  }
  void OnWriteDone(bool) override { StartRead(&in_); }
  void OnDone() override { delete this; }

 private:
  Loop& loop_;
  WorkerMessage in_;
  CoordinatorMessage out_;
};

class EchoService : public hollerith::v1::Coordinator::CallbackService {
 public:
  explicit EchoService(Loop& loop) : loop_(loop) {}
  grpc::ServerBidiReactor<WorkerMessage, CoordinatorMessage>* Session(
      grpc::CallbackServerContext*) override {
    return new EchoReactor(loop_);
  }

 private:
  Loop& loop_;
};

// Sends a ping, waits for its echo, records the round trip, sends the next one.
class Pinger : public grpc::ClientBidiReactor<WorkerMessage, CoordinatorMessage> {
 public:
  Pinger(hollerith::v1::Coordinator::Stub& stub, Loop& loop, int round_trips)
      : loop_(loop), left_(round_trips) {
    rtt_us_.reserve(static_cast<size_t>(round_trips));
    stub.async()->Session(&context_, this);
    StartRead(&in_);
    Ping();
    StartCall();
  }
  // The next ping starts once its echo arrived and the write is done (one write at a time).
  void OnReadDone(bool ok) override {
    if (ok) Step();
  }
  void OnWriteDone(bool ok) override {
    if (ok) Step();
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    cv_.notify_all();
  }
  std::vector<double> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    if (!status_.ok()) {
      std::fprintf(stderr, "stream failed: %s\n", status_.error_message().c_str());
      std::exit(1);
    }
    return rtt_us_;
  }

 private:
  void Step() {
    if (--pending_ > 0) return;
    loop_.post([this] {
      rtt_us_.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent_at_).count());
      if (--left_ > 0) {
        StartRead(&in_);
        Ping();
      } else {
        StartWritesDone();
      }
    });
  }
  void Ping() {
    pending_ = 2;
    out_.set_lamport(++seq_);
    sent_at_ = Clock::now();
    StartWrite(&out_);
  }

  Loop& loop_;
  grpc::ClientContext context_;
  WorkerMessage out_;
  CoordinatorMessage in_;
  int left_;
  std::atomic<int> pending_{0};
  uint64_t seq_ = 0;
  Clock::time_point sent_at_;
  std::vector<double> rtt_us_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

// Serves echoes until killed; prints the port first. Runs in a child process.
void Serve(bool handoff) {
  Loop server_loop(handoff);
  EchoService service(server_loop);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  std::printf("%d\n", port);
  std::fflush(stdout);
  server->Wait();
}

void Measure(const char* self, const char* name, bool handoff, int round_trips) {
  // The server is another process, as the coordinator is for a worker.
  int out[2];
  if (pipe(out) != 0) std::exit(1);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args{self, "--serve"};
  if (handoff) args.emplace_back("--handoff");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, self, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) std::exit(1);
  close(out[1]);
  FILE* child = fdopen(out[0], "r");
  int port = 0;
  if (std::fscanf(child, "%d", &port) != 1) {
    std::fprintf(stderr, "could not start the echo server\n");
    std::exit(1);
  }
  Loop client_loop(handoff);
  auto stub = hollerith::v1::Coordinator::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  Pinger pinger(*stub, client_loop, round_trips);
  std::vector<double> rtt = pinger.Wait();
  rtt.erase(rtt.begin(), rtt.begin() + static_cast<long>(rtt.size() / 10));  // warm-up
  std::printf("%-8s round trip p50 %6.1f µs  p99 %6.1f µs  (%zu round trips)\n", name,
              Percentile(rtt, 0.5), Percentile(rtt, 0.99), rtt.size());
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  std::fclose(child);
}

}  // namespace

int main(int argc, char** argv) {
  hollerith::rpc::SkipMutexCycleChecks();  // as the daemons run
  int round_trips = 20000;
  if (argc >= 2 && std::strcmp(argv[1], "--serve") == 0) {
    Serve(argc >= 3 && std::strcmp(argv[2], "--handoff") == 0);
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--round-trips") == 0 && i + 1 < argc) {
      round_trips = std::max(10, std::atoi(argv[++i]));
    } else {
      std::printf(
          "usage: hollerith-grpc-floor [--round-trips N]\n"
          "Round trips on one gRPC callback bidi stream on loopback: answered inside the reaction\n"
          "(gRPC alone) and through an asio loop on each side (as the daemons do).\n");
      return std::strcmp(argv[i], "--help") == 0 ? 0 : 2;
    }
  }
  Measure(argv[0], "inline", false, round_trips);
  Measure(argv[0], "handoff", true, round_trips);
  return 0;
}
