// What confines a node's cards, beyond their workspace: the user they run as and the limits that
// apply when a card's spec leaves one unset. Chosen once when the node starts (a worker's
// --run-as and --default-limits; the same flags of `hollerith run --local`) and said at start.
//
// Users: a node started as root never runs cards as root unless told to (`--run-as root`); it
// runs them as --run-as USER, by default `hollerith` if that user exists, else `nobody`. A node
// that is not root runs cards as itself: it cannot be anyone else, so --run-as must then name it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/runner/confined_path.h"
#include "common/spec/job.h"

namespace hollerith {

struct CardUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, set in the child
  bool switches = false;      // the node is root and cards run as someone else (or root, told)

  // Whom files the node makes in workspaces should belong to (none when cards run as the node).
  std::optional<FileOwner> owner() const {
    if (!switches) return std::nullopt;
    return FileOwner{uid, gid};
  }
};

struct CardSandbox {
  CardUser user;
  CardLimits defaults;  // for each limit a card leaves unset; zero: none
};

// The user cards run as, from --run-as (empty: the default above). Errors read
// "--run-as X: ..." (unknown user, or another user while not root).
Result<CardUser> ResolveCardUser(const std::string& run_as);

// The sandbox from a node's flags: --run-as (empty: the default) and --default-limits (a list,
// "memory=4GiB,cpu=1h,files=4096,processes=1024"; empty: none). Errors name the flag.
Result<CardSandbox> ResolveSandbox(const std::string& run_as, const std::string& default_limits);

// --help of those two flags, the same for hollerith-worker and `hollerith run --local`.
inline constexpr const char* kRunAsHelp =
    "user cards run as when this process is root (default: 'hollerith' if that user exists, else "
    "'nobody'; 'root' only if you mean it); when not root, cards run as this process's user and "
    "--run-as may only name it";
inline constexpr const char* kDefaultLimitsHelp =
    "limits for cards whose spec sets none, as memory=SIZE,cpu=DURATION,files=N,processes=N (any "
    "subset, e.g. memory=4GiB,cpu=1h); enforced with rlimits in each card's process; default: "
    "none";

// Refuses a secret the node reads (a token or key file) that the card user could read too.
Status CheckNotReadableBy(const CardUser& user, const std::string& path);

// "cards run as nobody (uid 65534, gid 65534); default limits: memory=4GiB,cpu=1h" for the
// node's start log.
std::string DescribeSandbox(const CardSandbox& sandbox);

}  // namespace hollerith
