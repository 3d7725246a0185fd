// Builders for what a coordinator sends a worker (welcome, assignments, cards), shared by the
// worker's tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hollerith.pb.h"

namespace hollerith::testing {

inline v1::Assignment MakeAssignment(const std::string& job, uint32_t stack, uint32_t attempt,
                                     const std::vector<v1::CardDef>& cards, uint64_t lamport) {
  v1::Assignment a;
  a.set_job_id(job);
  a.set_stack(stack);
  a.set_attempt(attempt);
  a.set_lamport(lamport);
  a.mutable_spec()->set_id("S" + std::to_string(stack));
  for (const auto& c : cards) *a.mutable_spec()->add_cards() = c;
  return a;
}

inline v1::CardDef Noop(const std::string& id) {
  v1::CardDef c;
  c.set_id(id);
  c.set_builtin(v1::BUILTIN_NOOP);
  return c;
}

inline v1::CardDef Sleep(const std::string& id, uint64_t ms) {
  v1::CardDef c;
  c.set_id(id);
  c.set_builtin(v1::BUILTIN_SLEEP);
  c.set_sleep_ms(ms);
  return c;
}

inline v1::CardDef Shell(const std::string& id, const std::string& line) {
  v1::CardDef c;
  c.set_id(id);
  c.set_shell(line);
  return c;
}

inline std::vector<v1::CardDef> Noops(int n) {
  std::vector<v1::CardDef> cards;
  for (int i = 0; i < n; ++i) cards.push_back(Noop("c" + std::to_string(i)));
  return cards;
}

inline v1::CoordinatorMessage Welcome(uint64_t epoch, uint32_t heartbeat_ms, uint64_t lamport) {
  v1::CoordinatorMessage m;
  m.set_lamport(lamport);
  m.mutable_welcome()->set_epoch(epoch);
  m.mutable_welcome()->set_heartbeat_ms(heartbeat_ms);
  return m;
}

}  // namespace hollerith::testing
