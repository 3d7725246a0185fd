// One connection to the coordinator: the `Session` bidi stream as a gRPC callback reactor. It only
// moves messages. Received ones are posted to the io_context, in order. Outgoing ones come from the
// loop, shared (the worker keeps each for its resend window), and are written one at a time in
// order. While a write is in flight busy() is true and a busy loop holds its next batch back, so a
// burst of card events leaves as a few large WorkerMessages, not one per event.
#pragma once

#include <grpcpp/grpcpp.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "hollerith.grpc.pb.h"
#include "proto/message_arena.h"
#include "worker/coordinator_stream.h"

namespace hollerith::worker {

// Appends `from`'s events to `into`; the merged message carries the newer clock and heartbeat.
void Merge(v1::WorkerMessage& into, v1::WorkerMessage&& from);
// The card events `m` carries (starts, finishes and stack ends): what the resend window keeps.
inline int CardEvents(const v1::WorkerMessage& m) {
  return m.started_size() + m.finished_size() + m.ended_size();
}

class Session : public CoordinatorStream,
                public grpc::ClientBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage>,
                public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, Handlers handlers);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() override = default;

  // The methods below run on the loop thread (or, for Cancel and WaitDone, on the thread that owns
  // the loop once it has stopped). The Session must be owned by a shared_ptr.

  // Opens the stream with bearer metadata; `hello` is the first message written.
  void Start(v1::Coordinator::Stub& stub, const std::string& token, v1::WorkerMessage hello);
  // CoordinatorStream.
  bool Send(std::shared_ptr<const v1::WorkerMessage> msg) override;
  bool busy() override;
  void Close() override;
  void Cancel() override;
  bool WaitDone(std::chrono::milliseconds timeout) override;  // over: OnDone ran
  size_t queued() override;
  std::optional<std::string> StandbyAnswer() const override { return standby_answer_; }

  // gRPC reactions (gRPC threads).
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  // Loop thread: lets the call complete once nothing more will be started from outside a reaction.
  // Removing the hold on the loop (never on a gRPC thread) is what makes Send race-free: a write
  // the loop starts either precedes the removal or sees that the stream is closing.
  void ReleaseHold();
  // Starts writing the next queued message, or half-closes if asked to, or tells the loop that
  // all is written when busy() said otherwise; called without mu_ held.
  void Pump();

  asio::io_context& io_;
  Handlers handlers_;
  grpc::ClientContext context_;
  // Parsed on an arena of its own (a received assignment of 1,024 stacks is thousands of parts),
  // shared with the loop, which reads it after the next read has begun.
  std::shared_ptr<rpc::ArenaMessage<v1::CoordinatorMessage>> incoming_ =
      std::make_shared<rpc::ArenaMessage<v1::CoordinatorMessage>>();
  bool hold_released_ = false;  // loop thread only

  std::mutex mu_;  // guards the outgoing side, shared by the loop and OnWriteDone
  std::deque<std::shared_ptr<const v1::WorkerMessage>> queue_;
  std::shared_ptr<const v1::WorkerMessage> writing_;  // read by gRPC while write_in_flight_
  bool write_in_flight_ = false;
  bool tell_writable_ = false;  // busy() said true: post `writable` once all is written
  bool close_requested_ = false;
  bool writes_done_started_ = false;
  bool closed_ = false;  // the stream is over or broken: nothing more is written

  std::optional<std::string> standby_answer_;  // set before `done` is posted

  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
};

}  // namespace hollerith::worker
