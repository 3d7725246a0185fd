// Reactors for the coordinator's streams. OutboxWriter: a server stream fed through an Outbox from
// the loop. SessionReactor: one worker's bidirectional stream (hello, then batched events up;
// batched assignments, releases, retries and skips down).
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <functional>
#include <memory>

#include "coordinator/coordinator.h"
#include "hollerith.grpc.pb.h"
#include "proto/rpc_authorizer.h"

namespace hollerith::coordinator {

template <typename Msg>
class OutboxWriter : public grpc::ServerWriteReactor<Msg> {
 public:
  // `on_done` runs (on a gRPC thread) when the stream is over, e.g. to unregister a watcher.
  explicit OutboxWriter(std::function<void()> on_done = nullptr)
      : outbox_(std::make_shared<Outbox<Msg>>()), on_done_(std::move(on_done)) {
    outbox_->Attach([this](const Msg* m) { this->StartWrite(m); },
                    [this](const grpc::Status& s) { this->Finish(s); });
  }
  std::shared_ptr<Outbox<Msg>> outbox() { return outbox_; }
  // Keeps the stream's revocation ticket until the stream is over.
  void Hold(rpc::TicketHolder ticket) { ticket_ = std::move(ticket); }
  void OnWriteDone(bool ok) override { outbox_->OnWriteDone(ok); }
  void OnCancel() override { outbox_->Close(grpc::Status::CANCELLED); }
  void OnDone() override {
    outbox_->Detach();
    if (on_done_) on_done_();
    delete this;
  }

 private:
  std::shared_ptr<Outbox<Msg>> outbox_;
  std::function<void()> on_done_;
  rpc::TicketHolder ticket_;
};

class SessionReactor : public grpc::ServerBidiReactor<v1::WorkerMessage, v1::CoordinatorMessage> {
 public:
  // `certified_name`: the name the worker's certificate gives it ("" with tokens: any name).
  SessionReactor(Coordinator& coordinator, std::string peer, std::string certified_name,
                 rpc::TicketHolder ticket);
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override { outbox_->OnWriteDone(ok); }
  void OnDone() override;

 private:
  // Applies a message (or the end of the stream) to the coordinator's state: here if the state is
  // free, else on the loop; always in the order the stream delivered them.
  void Deliver(std::function<void()> apply);

  // Touched only by the state's owner, except the count of applications still posted (shared
  // with the WorkerLink as `unapplied`: its lease holds while one waits).
  struct LoopSide {
    std::shared_ptr<WorkerLink> link;
    std::shared_ptr<std::atomic<int>> posted = std::make_shared<std::atomic<int>>(0);
  };

  Coordinator& coordinator_;
  std::string peer_;
  std::string certified_name_;
  rpc::TicketHolder ticket_;
  std::shared_ptr<Outbox<v1::CoordinatorMessage>> outbox_;
  std::shared_ptr<LoopSide> loop_side_ = std::make_shared<LoopSide>();
  v1::WorkerMessage in_;
  bool hello_seen_ = false;  // gRPC delivers reads one at a time
};

}  // namespace hollerith::coordinator
