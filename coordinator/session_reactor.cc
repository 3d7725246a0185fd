#include <spdlog/spdlog.h>

#include "coordinator/stream_reactors.h"
#include "proto/wire.h"

namespace hollerith::coordinator {

SessionReactor::SessionReactor(Coordinator& coordinator, std::string peer,
                               std::string certified_name, rpc::TicketHolder ticket)
    : coordinator_(coordinator),
      peer_(std::move(peer)),
      certified_name_(std::move(certified_name)),
      ticket_(std::move(ticket)),
      outbox_(std::make_shared<Outbox<v1::CoordinatorMessage>>()) {
  outbox_->Attach([this](const v1::CoordinatorMessage* m) { StartWrite(m); },
                  [this](const grpc::Status& s) { Finish(s); });
  StartRead(&in_);
}

void SessionReactor::OnReadDone(bool ok) {
  if (!ok) {
    outbox_->Close(grpc::Status::OK);
    return;
  }
  auto msg = std::make_shared<v1::WorkerMessage>(std::move(in_));
  in_.Clear();
  if (!hello_seen_) {
    if (Status error = wire::ValidateHello(*msg); !error.ok()) {
      spdlog::warn("rejecting session from {}: {}", peer_, error.message());
      outbox_->Close(error);
      return;
    }
    if (!certified_name_.empty() && msg->hello().name() != certified_name_) {
      spdlog::warn("rejecting session from {}: certificate of '{}' says hello as '{}'", peer_,
                   certified_name_, msg->hello().name());
      outbox_->Close(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                  "this certificate is for worker '" + certified_name_ + "'"));
      return;
    }
    hello_seen_ = true;
    Deliver([side = loop_side_, &c = coordinator_, msg, peer = peer_, out = outbox_] {
      side->link = c.WorkerHello(msg->hello(), peer, out);
      if (side->link) side->link->unapplied = side->posted;
    });
  } else {
    Deliver([side = loop_side_, &c = coordinator_, msg] {
      if (side->link) c.WorkerMessage(side->link, *msg);
    });
  }
  StartRead(&in_);
}

void SessionReactor::Deliver(std::function<void()> apply) {
  // In stream order: at once only if nothing this session posted earlier is still waiting.
  if (loop_side_->posted->load(std::memory_order_acquire) == 0 && coordinator_.TryRunHere(apply)) {
    return;
  }
  loop_side_->posted->fetch_add(1, std::memory_order_release);
  coordinator_.Post([side = loop_side_, apply = std::move(apply)] {
    apply();
    side->posted->fetch_sub(1, std::memory_order_release);
  });
}

void SessionReactor::OnDone() {
  outbox_->Detach();
  Deliver([side = loop_side_, &c = coordinator_] {
    if (side->link) c.WorkerGone(side->link, "disconnected");
  });
  delete this;
}

}  // namespace hollerith::coordinator
