#include "worker/session.h"

#include <algorithm>
#include <asio/post.hpp>
#include <utility>

#include "proto/rpc_auth.h"
#include "proto/rpc_leader.h"

namespace hollerith::worker {
namespace {

template <typename T>
void MoveAll(google::protobuf::RepeatedPtrField<T>* from,
             google::protobuf::RepeatedPtrField<T>* to) {
  if (from->empty()) return;
  if (to->empty()) {
    to->Swap(from);
    return;
  }
  to->Reserve(to->size() + from->size());
  for (T& item : *from) to->Add(std::move(item));
  from->Clear();
}

}  // namespace

void Merge(v1::WorkerMessage& into, v1::WorkerMessage&& from) {
  into.set_lamport(std::max(into.lamport(), from.lamport()));
  into.set_epoch(from.epoch());
  if (from.has_heartbeat()) into.mutable_heartbeat()->Swap(from.mutable_heartbeat());
  MoveAll(from.mutable_started(), into.mutable_started());
  MoveAll(from.mutable_finished(), into.mutable_finished());
  MoveAll(from.mutable_ended(), into.mutable_ended());
}

Session::Session(asio::io_context& io, Handlers handlers)
    : io_(io), handlers_(std::move(handlers)) {}

void Session::Start(v1::Coordinator::Stub& stub, const std::string& token,
                    v1::WorkerMessage hello) {
  rpc::AttachBearer(context_, token);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::make_shared<const v1::WorkerMessage>(std::move(hello)));
  }
  stub.async()->Session(&context_, this);
  // The hold keeps the call open for writes the loop starts later, outside any reaction.
  AddHold();
  StartRead(incoming_->get());
  Pump();
  StartCall();
}

bool Session::Send(std::shared_ptr<const v1::WorkerMessage> msg) {
  if (hold_released_) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || close_requested_) return false;
    queue_.push_back(std::move(msg));
  }
  Pump();
  return true;
}

bool Session::busy() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || (!write_in_flight_ && queue_.empty())) return false;
  tell_writable_ = true;
  return true;
}

void Session::Close() {
  if (hold_released_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || close_requested_) return;
    close_requested_ = true;
  }
  Pump();
}

void Session::Cancel() {
  context_.TryCancel();
  ReleaseHold();
}

bool Session::WaitDone(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(done_mu_);
  return done_cv_.wait_for(lock, timeout, [this] { return done_; });
}

size_t Session::queued() {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void Session::ReleaseHold() {
  if (hold_released_) return;
  hold_released_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    queue_.clear();
  }
  RemoveHold();
}

void Session::Pump() {
  enum class Action { kNone, kWrite, kWritesDone } action = Action::kNone;
  bool tell_writable = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || writes_done_started_) return;
    if (!write_in_flight_) {
      if (!queue_.empty()) {
        writing_ = std::move(queue_.front());
        queue_.pop_front();
        write_in_flight_ = true;
        action = Action::kWrite;
      } else if (close_requested_) {
        writes_done_started_ = true;
        action = Action::kWritesDone;
      }
    }
    // Everything given is written: the loop may give the batch it held back.
    if (tell_writable_ && !write_in_flight_ && queue_.empty()) {
      tell_writable_ = false;
      tell_writable = true;
    }
  }
  if (tell_writable) {
    asio::post(io_, [self = shared_from_this()] {
      if (self->handlers_.writable) self->handlers_.writable();
    });
  }
  // Outside the lock: gRPC may run OnWriteDone inline.
  if (action == Action::kWrite) {
    StartWrite(writing_.get());
  } else if (action == Action::kWritesDone) {
    StartWritesDone();
  }
}

void Session::OnReadDone(bool ok) {
  if (!ok) {
    // The coordinator ended the stream (or it broke): stop writing once the loop has seen it.
    asio::post(io_, [self = shared_from_this()] { self->ReleaseHold(); });
    return;
  }
  auto msg =
      std::exchange(incoming_, std::make_shared<rpc::ArenaMessage<v1::CoordinatorMessage>>());
  // Post before starting the next read: its reaction may run on another thread at once, and
  // messages must reach the loop in stream order (an assignment before its releases).
  asio::post(io_, [self = shared_from_this(), msg] {
    if (self->handlers_.message) self->handlers_.message(**msg);
  });
  StartRead(incoming_->get());
}

void Session::OnWriteDone(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    write_in_flight_ = false;
    writing_.reset();  // the sender's copy is the one kept
    if (!ok) {
      // The stream is broken; the failed read that follows ends the session.
      closed_ = true;
      queue_.clear();
      return;
    }
  }
  Pump();
}

void Session::OnDone(const grpc::Status& status) {
  standby_answer_ = rpc::StandbyAnswer(context_.GetServerTrailingMetadata());
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done_ = true;
  }
  done_cv_.notify_all();
  asio::post(io_, [self = shared_from_this(), status] {
    if (self->handlers_.done) self->handlers_.done(status);
  });
}

}  // namespace hollerith::worker
