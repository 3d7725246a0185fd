// A protobuf message on an arena of its own, for the messages the daemons build or parse in bulk
// (an assignment of 1,024 stacks, a combine's 10,000 releases): their parts are bump-allocated and
// freed at once with the arena, not one by one. Used by the coordinator's outboxes (messages it
// builds) and the worker's session (messages it parses).
#pragma once

#include <google/protobuf/arena.h>

#include <memory>

namespace hollerith::rpc {

template <typename Msg>
class ArenaMessage {
 public:
  ArenaMessage() : arena_(std::make_unique<google::protobuf::Arena>(Options())) {
    msg_ = google::protobuf::Arena::CreateMessage<Msg>(arena_.get());
  }
  Msg& operator*() const { return *msg_; }
  Msg* operator->() const { return msg_; }
  Msg* get() const { return msg_; }

 private:
  static google::protobuf::ArenaOptions Options() {
    google::protobuf::ArenaOptions options;
    options.max_block_size = 64 << 10;  // blocks grow to 64 KiB: a big message takes few of them
    return options;
  }

  std::unique_ptr<google::protobuf::Arena> arena_;
  Msg* msg_ = nullptr;  // on arena_
};

}  // namespace hollerith::rpc
