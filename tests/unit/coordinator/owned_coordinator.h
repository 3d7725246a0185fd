// A real Coordinator driven from the test's own thread, without gRPC: each call is posted to its
// loop and the loop is polled until idle, as the daemon's loop would run it. The base of the unit
// tests' Harness and of the fuzz targets' FuzzCoordinator (so it needs no GoogleTest).
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <utility>

#include "coordinator/coordinator.h"

namespace hollerith::coordinator {

class OwnedCoordinator {
 public:
  OwnedCoordinator(TimerFactory& time, JobStore& store, CoordinatorConfig config = Config())
      : coordinator_(loop_, time, config, store) {}

  // Short leases, for simulated time: heartbeats every 100 ms, a lease of 300 ms.
  static CoordinatorConfig Config() {
    CoordinatorConfig c;
    c.heartbeat = std::chrono::milliseconds(100);
    c.missed_heartbeats = 3;
    return c;
  }

  // Runs `f` owning the coordinator's state, as the daemon's loop would.
  template <typename F>
  void Owned(F f) {
    coordinator_.Post(std::move(f));
    RunDue();
  }
  // Runs what is due on the loop (timers of simulated time that fell due, posted work).
  void RunDue() {
    loop_.restart();
    loop_.poll();
  }

  asio::io_context loop_;
  Coordinator coordinator_;
};

}  // namespace hollerith::coordinator
