// The worker's end of its stream to the coordinator, as the Worker sees it: the seam between the
// worker's logic and its transport. `Session` (session.h) is the gRPC one the daemon uses; the
// seeded simulator (tests/sim/) opens streams that it delivers itself, one message at a time.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "hollerith.pb.h"

namespace hollerith::worker {

class CoordinatorStream {
 public:
  struct Handlers {
    std::function<void(const v1::CoordinatorMessage&)> message;  // on the loop, in stream order
    std::function<void(const grpc::Status&)> done;  // on the loop, once, after every message
    // On the loop, after busy() said true, once everything given has been written.
    std::function<void()> writable;
  };
  virtual ~CoordinatorStream() = default;

  // The methods below run on the worker's loop thread (Cancel and WaitDone also on the thread
  // that owns the loop once it has stopped).

  // Queues `msg` for writing; false once the stream is closing or over. The stream only reads
  // `msg`: the sender may keep it (the worker keeps what it sent for its resend window).
  virtual bool Send(std::shared_ptr<const v1::WorkerMessage> msg) = 0;
  // True while a message is being written or waits to be: a sender may hold its next batch back
  // and let it grow until `writable` runs.
  virtual bool busy() = 0;
  // Half-closes the stream once everything queued has been written; the coordinator then ends it.
  virtual void Close() = 0;
  // Ends the stream now; `done` still runs (with CANCELLED unless the stream ended first).
  virtual void Cancel() = 0;
  // Blocks until the stream is over or `timeout` passed; true if it is over.
  virtual bool WaitDone(std::chrono::milliseconds timeout) = 0;
  // Messages waiting behind the one being written.
  virtual size_t queued() = 0;
  // Once over: what a standby coordinator answered (rpc::StandbyAnswer: the leader's address,
  // "" if it knew none); nullopt when no standby answered.
  virtual std::optional<std::string> StandbyAnswer() const { return std::nullopt; }
};

// Opens a stream to the coordinator whose first message is `hello`.
using StreamOpener = std::function<std::shared_ptr<CoordinatorStream>(
    CoordinatorStream::Handlers handlers, v1::WorkerMessage hello)>;

}  // namespace hollerith::worker
