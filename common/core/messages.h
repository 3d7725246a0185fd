// Transport-neutral messages between the scheduler core (job side) and the stack runners (node
// side). The local wiring passes them as function calls; the cluster maps them 1:1 onto proto/.
// Every message carries the sender's Lamport time; every receiver merges it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/core/clock.h"
#include "common/spec/job.h"

namespace hollerith {

// (path, sha256) of each declared output a card published.
using OutputDigests = std::vector<std::pair<std::string, std::string>>;

// The result of one card as the combine card sees it (results/STACK.CARD.stdout and .exit).
struct CardResultFile {
  std::string card_name;
  int exit_code = 0;
  std::string stdout_text;
};

// A card's result found in the result cache (common/cache/): the node skips the card, restores
// its declared outputs into the workspace from the artifact store and reports this result,
// marked as coming from job `from_job`. A node that cannot restore them runs the card instead.
struct CachedCard {
  uint32_t card = 0;
  int exit_code = 0;
  std::string stdout_text;
  bool stdout_truncated = false;
  OutputDigests outputs;
  std::string from_job;
};

// Down: run stack `stack` (attempt `attempt`) on `node`. The combine stack also gets every result.
struct AssignStackMsg {
  uint32_t stack = 0;
  uint32_t attempt = 0;
  std::string node;
  int32_t priority = 0;  // the job's: its cards get a node's free slots before lower ones
  std::string tenant;    // the job's: among equal priorities, the smallest weighted share first
  uint32_t tenant_weight = 1;
  std::vector<CardResultFile> results;  // combine only
  std::vector<CachedCard> cached;       // cards whose results the cache holds already
  uint64_t lamport = 0;
  // Where the stack's vector clock starts: what its earlier attempts reached (empty for the
  // first), so that a re-run never repeats a clock an earlier attempt's events carry.
  VectorClock vc;
};

// Down: a card of a placed stack whose key became known after the assignment (its inputs were
// published) is in the cache. Sent before the release that lets the card start, on the same
// stream, so it arrives first; a node that gets it late has run the card, which is as good.
struct CacheHitMsg {
  uint32_t stack = 0;
  uint32_t attempt = 0;
  CachedCard hit;
  uint64_t lamport = 0;
};

// Down: card `from` finished successfully; card `to` (of another stack) may count it as released.
// `also_from`: more cards `to` waits for, released by this one message (the coordinator packs a
// burst of releases to one card, such as a combine's 10,000, with PackReleases): `vc` is then the
// merge of all their finishes' clocks and `lamport` the latest. A packed release has no outputs.
struct ReleaseMsg {
  CardRef from;
  CardRef to;
  uint32_t attempt = 0;  // attempt of to.stack this release is addressed to
  VectorClock vc;        // VC of from's finish
  OutputDigests outputs;
  uint64_t lamport = 0;
  std::vector<CardRef> also_from;
};

// Down: run card again (after a failure) once `delay` has passed.
struct RetryMsg {
  CardRef card;
  uint32_t attempt = 0;
  uint32_t next_try = 0;
  Duration delay{0};
  uint64_t lamport = 0;
};

// Down: cards from `from_card` on will never run (a dependency failed, or the job was cancelled);
// cards before it still run. A running card at or after from_card is killed.
struct SkipMsg {
  uint32_t stack = 0;
  uint32_t attempt = 0;
  uint32_t from_card = 0;
  std::string reason;
  uint64_t lamport = 0;
};

// Up: a card started; vc is what the node actually knew (its stack order + releases received).
struct CardStartedMsg {
  CardRef card;
  uint32_t attempt = 0;
  uint32_t try_no = 0;
  std::string node;
  VectorClock vc;
  uint64_t lamport = 0;
  int64_t wall_us = 0;
};

// What a result keeps of a card's stdout and stderr; the rest stays in the worker's spill file.
inline constexpr size_t kResultStdoutBound = 64 * 1024;

struct CardFinishedMsg {
  CardRef card;
  uint32_t attempt = 0;
  uint32_t try_no = 0;
  std::string node;
  VectorClock vc;
  uint64_t lamport = 0;
  int64_t wall_us = 0;
  bool succeeded = false;
  int exit_code = -1;
  std::string error;  // why it failed, beyond the exit code
  std::string stdout_text;
  bool stdout_truncated = false;
  std::string stderr_text;
  int64_t duration_ms = 0;
  OutputDigests outputs;
  std::string cached_from;  // a cache hit: the job whose run produced this result
  // Node-local, never sent: how long spawning the card's process took (-1: no process), and the
  // files holding its whole stdout / stderr when they outgrew what is kept in memory ("": none).
  int64_t spawn_us = -1;
  std::string stdout_file;
  std::string stderr_file;
};

}  // namespace hollerith
