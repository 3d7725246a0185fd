// A scriptable in-process coordinator for worker tests: a Coordinator::CallbackService on
// 127.0.0.1:<free port>. It checks the bearer token, records every WorkerMessage of every session,
// lets the test react to each one (answer with welcome, assignments...), end a session, and serves
// artifacts from memory (optionally corrupted). Every wait has a deadline; nothing sleeps.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hollerith.grpc.pb.h"
#include "proto/rpc_auth.h"

namespace hollerith::testing {

class FakeCoordinator final : public v1::Coordinator::CallbackService {
 public:
  struct SessionLog {
    std::vector<v1::WorkerMessage> received;
    bool half_closed = false;  // the worker called WritesDone
    bool done = false;
  };
  // Called on a gRPC thread for every message of session `index` (0-based), in order.
  using OnMessage = std::function<void(size_t index, const v1::WorkerMessage&)>;

  // `listen`: a free port by default; a given address (a fake that stands in for one shut down,
  // at the same port) must be free.
  explicit FakeCoordinator(std::string token, const std::string& listen = "127.0.0.1:0")
      : token_(std::move(token)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeCoordinator() override { Shutdown(); }

  void Shutdown() {
    if (!server_) return;
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      for (auto& s : sessions_) {
        if (s->reactor) s->reactor->FinishNow(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
      }
    }
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_.reset();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void set_on_message(OnMessage f) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    on_message_ = std::move(f);
  }

  // Queues a message to session `index` (no-op once that session is over).
  void Send(size_t index, v1::CoordinatorMessage msg) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (index < sessions_.size() && sessions_[index]->reactor) {
      sessions_[index]->reactor->Push(std::move(msg));
    }
  }
  // Ends session `index` from the coordinator's side with `status`.
  void EndSession(size_t index, grpc::Status status) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (index < sessions_.size() && sessions_[index]->reactor) {
      sessions_[index]->reactor->FinishNow(std::move(status));
    }
  }

  // Waits until `pred(sessions)` holds; false on timeout.
  bool WaitFor(const std::function<bool(const std::deque<SessionLog>&)>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::recursive_mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(logs_); });
  }
  std::deque<SessionLog> sessions() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return logs_;
  }
  int rejected() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return rejected_;
  }

  // Artifacts held by the fake's store.
  void PutBlob(const std::string& digest, std::string content) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    blobs_[digest] = std::move(content);
  }
  std::map<std::string, std::string> blobs() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return blobs_;
  }
  int fetches() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return fetches_;
  }
  // Chunks received per completed upload.
  std::vector<int> upload_chunks() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return upload_chunks_;
  }

  // ---------------------------------------------------------------- service

  grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>* Session(
      grpc::CallbackServerContext* ctx) override {
    grpc::Status auth = rpc::CheckBearer(*ctx, token_);
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!auth.ok()) {
      ++rejected_;
      cv_.notify_all();
      return new Rejecting(auth);
    }
    auto state = std::make_shared<SessionState>();
    state->index = sessions_.size();
    state->log = &logs_.emplace_back();
    state->reactor = new SessionReactor(this, state);
    sessions_.push_back(state);
    return state->reactor;
  }

  grpc::ServerReadReactor<v1::ArtifactChunk>* UploadArtifact(
      grpc::CallbackServerContext* ctx, v1::UploadArtifactResponse* response) override {
    return new Upload(this, rpc::CheckBearer(*ctx, token_), response);
  }

  grpc::ServerWriteReactor<v1::ArtifactChunk>* FetchArtifact(
      grpc::CallbackServerContext* ctx, const v1::FetchArtifactRequest* request) override {
    grpc::Status auth = rpc::CheckBearer(*ctx, token_);
    std::string content;
    bool found = false;
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      ++fetches_;
      auto it = blobs_.find(request->sha256());
      if (it != blobs_.end()) {
        content = it->second;
        found = true;
      }
    }
    if (auth.ok() && !found) auth = grpc::Status(grpc::StatusCode::NOT_FOUND, "no such artifact");
    return new Fetch(auth, request->sha256(), std::move(content));
  }

 private:
  class SessionReactor;
  struct SessionState {
    size_t index = 0;
    SessionReactor* reactor = nullptr;  // null once the stream is over (guarded by mu_)
    SessionLog* log = nullptr;          // in logs_
  };

  class Rejecting : public grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage> {
   public:
    explicit Rejecting(const grpc::Status& s) { Finish(s); }
    void OnDone() override { delete this; }
  };

  // Reads everything; writes one message at a time from a queue. Methods named *Locked, Push and
  // FinishNow run with the fake's mutex held.
  class SessionReactor : public grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage> {
   public:
    SessionReactor(FakeCoordinator* fake, std::shared_ptr<SessionState> state)
        : fake_(fake), state_(std::move(state)) {
      StartRead(&in_);
    }
    void Push(v1::CoordinatorMessage msg) {
      if (finished_) return;
      queue_.push_back(std::move(msg));
      PumpLocked();
    }
    void FinishNow(grpc::Status status) {
      if (finished_) return;
      finish_status_ = std::move(status);
      finish_requested_ = true;
      queue_.clear();
      PumpLocked();
    }
    void OnReadDone(bool ok) override {
      OnMessage hook;
      v1::WorkerMessage msg;
      {
        std::lock_guard<std::recursive_mutex> lock(fake_->mu_);
        if (!ok) {
          state_->log->half_closed = true;
          fake_->cv_.notify_all();
          // The worker half-closed (drain) or the stream broke: end it once our queue is out.
          if (!finish_requested_) {
            finish_requested_ = true;
            PumpLocked();
          }
          return;
        }
        msg = in_;
        state_->log->received.push_back(in_);
        hook = fake_->on_message_;
        fake_->cv_.notify_all();
      }
      if (hook) hook(state_->index, msg);
      StartRead(&in_);
    }
    void OnWriteDone(bool ok) override {
      std::lock_guard<std::recursive_mutex> lock(fake_->mu_);
      writing_ = false;
      if (!ok) queue_.clear();
      PumpLocked();
    }
    void OnDone() override {
      {
        std::lock_guard<std::recursive_mutex> lock(fake_->mu_);
        state_->log->done = true;
        state_->reactor = nullptr;
        fake_->cv_.notify_all();
      }
      delete this;
    }

   private:
    void PumpLocked() {
      if (writing_ || finished_) return;
      if (!queue_.empty()) {
        out_ = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        StartWrite(&out_);
      } else if (finish_requested_) {
        finished_ = true;
        Finish(finish_status_);
      }
    }

    FakeCoordinator* fake_;
    std::shared_ptr<SessionState> state_;
    v1::WorkerMessage in_;
    v1::CoordinatorMessage out_;
    std::deque<v1::CoordinatorMessage> queue_;
    bool writing_ = false;
    bool finish_requested_ = false;
    bool finished_ = false;
    grpc::Status finish_status_;
  };

  class Upload : public grpc::ServerReadReactor<v1::ArtifactChunk> {
   public:
    Upload(FakeCoordinator* fake, grpc::Status auth, v1::UploadArtifactResponse* response)
        : fake_(fake), response_(response) {
      if (!auth.ok()) {
        Finish(auth);
        return;
      }
      StartRead(&chunk_);
    }
    void OnReadDone(bool ok) override {
      if (ok) {
        if (!chunk_.sha256().empty()) digest_ = chunk_.sha256();
        content_ += chunk_.data();
        ++chunks_;
        StartRead(&chunk_);
        return;
      }
      std::lock_guard<std::recursive_mutex> lock(fake_->mu_);
      fake_->blobs_[digest_] = content_;
      fake_->upload_chunks_.push_back(chunks_);
      fake_->cv_.notify_all();
      response_->set_sha256(digest_);
      response_->set_lamport(1000);
      Finish(grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    FakeCoordinator* fake_;
    v1::UploadArtifactResponse* response_;
    v1::ArtifactChunk chunk_;
    std::string digest_;
    std::string content_;
    int chunks_ = 0;
  };

  class Fetch : public grpc::ServerWriteReactor<v1::ArtifactChunk> {
   public:
    Fetch(const grpc::Status& status, const std::string& digest, std::string content) {
      if (!status.ok()) {
        Finish(status);
        return;
      }
      chunk_.set_sha256(digest);
      chunk_.set_data(std::move(content));
      chunk_.set_lamport(2000);
      StartWrite(&chunk_);
    }
    void OnWriteDone(bool ok) override { Finish(ok ? grpc::Status::OK : grpc::Status::CANCELLED); }
    void OnDone() override { delete this; }

   private:
    v1::ArtifactChunk chunk_;
  };

  std::string token_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::recursive_mutex mu_;  // reactions may run inline inside StartWrite/Finish
  std::condition_variable_any cv_;
  OnMessage on_message_;
  std::vector<std::shared_ptr<SessionState>> sessions_;
  std::deque<SessionLog> logs_;  // one per session, stable addresses
  int rejected_ = 0;
  std::map<std::string, std::string> blobs_;
  int fetches_ = 0;
  std::vector<int> upload_chunks_;
};

// How many card starts and stack ends session `session` of the fake's logs carried. Counting, not
// copying: wait predicates run on every message the fake receives.
inline size_t CountStarted(const std::deque<FakeCoordinator::SessionLog>& logs, size_t session) {
  size_t n = 0;
  if (logs.size() > session) {
    for (const auto& m : logs[session].received) n += static_cast<size_t>(m.started_size());
  }
  return n;
}

inline size_t CountEnded(const std::deque<FakeCoordinator::SessionLog>& logs, size_t session) {
  size_t n = 0;
  if (logs.size() > session) {
    for (const auto& m : logs[session].received) n += static_cast<size_t>(m.ended_size());
  }
  return n;
}

}  // namespace hollerith::testing
