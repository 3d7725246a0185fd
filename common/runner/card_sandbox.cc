#include "common/runner/card_sandbox.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "common/spec/limits.h"

namespace hollerith {

namespace {

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<Account> LookUp(const std::string& who) {
  std::vector<char> buffer(16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  char* end = nullptr;
  const unsigned long number = std::strtoul(who.c_str(), &end, 10);
  const bool numeric = !who.empty() && end != nullptr && *end == '\0';
  if (numeric) {
    ::getpwuid_r(static_cast<uid_t>(number), &pw, buffer.data(), buffer.size(), &found);
    if (found == nullptr)
      return Account{who, static_cast<uid_t>(number), static_cast<gid_t>(number)};
  } else {
    ::getpwnam_r(who.c_str(), &pw, buffer.data(), buffer.size(), &found);
  }
  if (found == nullptr) return std::nullopt;
  return Account{found->pw_name, found->pw_uid, found->pw_gid};
}

std::vector<gid_t> GroupsOf(const Account& account) {
  int n = 32;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  if (::getgrouplist(account.name.c_str(), account.gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<size_t>(n));
    if (::getgrouplist(account.name.c_str(), account.gid, groups.data(), &n) < 0) n = 0;
  }
  groups.resize(static_cast<size_t>(n));
  if (groups.empty()) groups.push_back(account.gid);
  return groups;
}

// Whether this host has a cgroup v2 hierarchy (only said: limits are rlimits either way).
std::string CgroupNote() {
  struct stat st;
  if (::stat("/sys/fs/cgroup/cgroup.controllers", &st) != 0) return "no cgroup v2 on this host";
  return "cgroup v2 present, not used for cards yet";
}

}  // namespace

Result<CardUser> ResolveCardUser(const std::string& run_as) {
  const uid_t self = ::geteuid();
  if (self != 0) {
    CardUser user;
    user.uid = self;
    user.gid = ::getegid();
    std::optional<Account> me = LookUp(std::to_string(self));
    user.name = me ? me->name : std::to_string(self);
    if (!run_as.empty()) {
      std::optional<Account> wanted = LookUp(run_as);
      if (!wanted) return Status::Error("--run-as " + run_as + ": no such user");
      if (wanted->uid != self) {
        return Status::Error("--run-as " + run_as + ": only a node started as root can run cards " +
                             "as another user (this one runs as " + user.name + ", uid " +
                             std::to_string(self) + ")");
      }
    }
    return user;
  }
  std::optional<Account> account;
  if (run_as.empty()) {
    account = LookUp("hollerith");
    if (!account) account = LookUp("nobody");
    if (!account) {
      return Status::Error("no 'hollerith' or 'nobody' user to run cards as; pass --run-as USER");
    }
  } else {
    account = LookUp(run_as);
    if (!account) return Status::Error("--run-as " + run_as + ": no such user");
  }
  CardUser user;
  user.name = account->name;
  user.uid = account->uid;
  user.gid = account->gid;
  user.groups = account->uid == 0 ? std::vector<gid_t>{0} : GroupsOf(*account);
  user.switches = true;
  return user;
}

Result<CardSandbox> ResolveSandbox(const std::string& run_as, const std::string& default_limits) {
  CardSandbox sandbox;
  Result<CardUser> user = ResolveCardUser(run_as);
  if (!user.ok()) return user.status();
  sandbox.user = std::move(*user);
  Result<CardLimits> limits = ParseLimitList(default_limits);
  if (!limits.ok()) return Status::Error("--default-limits: " + limits.message());
  sandbox.defaults = *limits;
  return sandbox;
}

Status CheckNotReadableBy(const CardUser& user, const std::string& path) {
  if (!user.switches || user.uid == 0 || path.empty()) return Status::Ok();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::Ok();  // reading it reports the problem
  const bool in_group =
      std::find(user.groups.begin(), user.groups.end(), st.st_gid) != user.groups.end() ||
      st.st_gid == user.gid;
  const bool readable = (st.st_uid == user.uid && (st.st_mode & S_IRUSR) != 0) ||
                        (in_group && (st.st_mode & S_IRGRP) != 0) || (st.st_mode & S_IROTH) != 0;
  if (!readable) return Status::Ok();
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return Status::Error(path + " (mode " + mode + ") is readable by " + user.name +
                       ", the user cards run as: a card could read it; chmod 600 it");
}

std::string DescribeSandbox(const CardSandbox& sandbox) {
  const CardUser& u = sandbox.user;
  std::string text = "cards run as " + u.name + " (uid " + std::to_string(u.uid) + ", gid " +
                     std::to_string(u.gid) + ")";
  if (u.switches && u.uid == 0)
    text += " -- as root, by --run-as: cards are not confined to a user";
  if (!u.switches) text += ", the node's own user";
  const std::string limits = FormatLimitList(sandbox.defaults);
  text += "; default limits: " + (limits.empty() ? std::string("none") : limits);
  text += "; limits enforced with rlimits in each card's process (" + CgroupNote() + ")";
  return text;
}

}  // namespace hollerith
