// One-write-at-a-time outgoing queue for a gRPC callback stream. The state's owner pushes; the
// reactor starts a write whenever none is in flight and calls OnWriteDone from a gRPC thread. A
// small mutex of its own guards the queue: it is transport plumbing, apart from the coordinator's
// state (which has one owner at a time, see coordinator.h), and it is never held while calling
// into that state.
// Batch() lets a caller merge into the last not-yet-sent message instead of queueing another.
// A message Batch() starts lives on a protobuf arena of its own, with all its parts: they are made
// by bump allocation and freed at once after the write (a combine's placement is 10,000 releases
// in ten messages), not one by one on the gRPC thread that finished writing them.
#pragma once

#include <grpcpp/grpcpp.h>

#include <spdlog/spdlog.h>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "proto/message_arena.h"
#include "proto/rpc_status.h"

namespace hollerith::coordinator {

template <typename Msg>
class Outbox {
 public:
  using StartWrite = std::function<void(const Msg*)>;
  using Finish = std::function<void(const grpc::Status&)>;

  void Attach(StartWrite start_write, Finish finish) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    start_write_ = std::move(start_write);
    finish_ = std::move(finish);
  }
  // The reactor is done: drop everything, never call it again.
  void Detach() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    start_write_ = nullptr;
    finish_ = nullptr;
    queue_.clear();
  }
  bool attached() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return static_cast<bool>(start_write_);
  }

  void Push(Msg msg) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!start_write_ || closing_) return;
    Queued q;
    q.pushed = std::make_unique<Msg>(std::move(msg));
    q.msg = q.pushed.get();
    queue_.push_back(std::move(q));
    PumpLocked();
  }
  // Queues a message built without the queue's lock (Batch holds it while `add` runs, and a
  // gRPC thread finishing a write waits for it).
  void Push(rpc::ArenaMessage<Msg> built) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!start_write_ || closing_) return;
    Queued& q = queue_.emplace_back();
    q.msg = q.built.emplace(std::move(built)).get();
    PumpLocked();
  }
  // Adds to the newest queued message (not the one being written), or starts a new one when there
  // is none or it is `full`.
  void Batch(const std::function<void(Msg&)>& add,
             const std::function<bool(const Msg&)>& full = nullptr) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!start_write_ || closing_) return;
    if (queue_.empty() || (full && full(*queue_.back().msg))) {
      Queued& q = queue_.emplace_back();
      q.msg = q.built.emplace().get();
    }
    add(*queue_.back().msg);
    PumpLocked();
  }
  // Finish the stream once everything queued has been written.
  void Close(grpc::Status status) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!finish_ || closing_) return;
    closing_ = true;
    close_status_ = std::move(status);
    PumpLocked();
  }
  void Close(const Status& status) { Close(rpc::ToGrpcStatus(status)); }
  void OnWriteDone(bool ok) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    writing_ = false;
    in_flight_ = {};
    if (!ok) {
      queue_.clear();
      return;
    }
    PumpLocked();
  }
  size_t queued() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return queue_.size();
  }

 private:
  void PumpLocked() {
    if (writing_ || !start_write_) return;
    if (!queue_.empty()) {
      in_flight_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      Msg& msg = *in_flight_.msg;
      if constexpr (requires(Msg m) { m.set_sequence(1); }) {
        msg.set_sequence(++sequence_);
        spdlog::trace("outbox write {}: {} assignments {} releases", sequence_,
                      msg.assignments_size(), msg.releases_size());
      }
      start_write_(&msg);
    } else if (closing_ && finish_) {
      auto finish = std::exchange(finish_, nullptr);
      start_write_ = nullptr;
      finish(close_status_);
    }
  }

  // A queued message: on its arena (Batch) or as it was pushed (Push: a log chunk is not copied).
  struct Queued {
    std::optional<rpc::ArenaMessage<Msg>> built;
    std::unique_ptr<Msg> pushed;
    Msg* msg = nullptr;  // the one of the two
  };

  std::recursive_mutex mu_;  // gRPC may run OnWriteDone inline inside StartWrite
  StartWrite start_write_;
  Finish finish_;
  std::deque<Queued> queue_;
  Queued in_flight_;
  bool writing_ = false;
  uint64_t sequence_ = 0;
  bool closing_ = false;
  grpc::Status close_status_;
};

}  // namespace hollerith::coordinator
