#include "proto/rpc_leader.h"

#include <algorithm>

namespace hollerith::rpc {

Result<std::vector<std::string>> SplitAddresses(const std::string& text) {
  std::vector<std::string> out;
  size_t begin = 0;
  for (;;) {
    const size_t end = std::min(text.find(',', begin), text.size());
    std::string item = text.substr(begin, end - begin);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) {
      return Status::InvalidArgument("coordinator address list '" + text +
                                     "' has an empty entry (expected HOST:PORT[,HOST:PORT...])");
    }
    out.push_back(std::move(item));
    if (end == text.size()) return out;
    begin = end + 1;
  }
}

std::optional<std::string> StandbyAnswer(
    const std::multimap<grpc::string_ref, grpc::string_ref>& trailing) {
  if (trailing.find(kStandbyMetadata) == trailing.end()) return std::nullopt;
  auto leader = trailing.find(kLeaderMetadata);
  if (leader == trailing.end()) return std::string();
  return std::string(leader->second.data(), leader->second.size());
}

LeaderFollower::LeaderFollower(std::vector<std::string> addresses, ChannelMaker make_channel)
    : addresses_(std::move(addresses)), make_channel_(std::move(make_channel)) {
  current_ = addresses_.at(0);
}

LeaderFollower::LeaderFollower(const std::string& addresses, ChannelMaker make_channel)
    : LeaderFollower(
          [&] {
            auto list = SplitAddresses(addresses);
            return list.ok() ? std::move(list).value() : std::vector<std::string>{addresses};
          }(),
          std::move(make_channel)) {}

v1::Coordinator::Stub& LeaderFollower::StubOf(const std::string& address) {
  auto& stub = stubs_[address];
  if (!stub) stub = v1::Coordinator::NewStub(make_channel_(address));
  return *stub;
}

LeaderFollower::Target LeaderFollower::current() {
  std::lock_guard lock(mu_);
  return {&StubOf(current_), current_};
}

std::string LeaderFollower::address() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::optional<std::string> LeaderFollower::AfterFailure(
    const std::string& from, const grpc::Status& status,
    const std::optional<std::string>& standby_answer) {
  std::lock_guard lock(mu_);
  if (from != current_) return current_;  // another call moved on already
  if (!MayBeElsewhere(status)) return std::nullopt;
  if (standby_answer && !standby_answer->empty() && *standby_answer != current_) {
    // The leader it names, unless the list has other entries and not that name: then the name
    // is presumably one only the coordinators' own network resolves (a container's), and the
    // leader another entry of the list.
    const bool named_in_list =
        std::find(addresses_.begin(), addresses_.end(), *standby_answer) != addresses_.end();
    if (named_in_list || addresses_.size() < 2) {
      current_ = *standby_answer;
      return current_;
    }
  }
  // Unreachable, or a standby that knows no leader yet: the list's next address (back to the list
  // after following a leader that is gone); with one address, a standby is asked again.
  auto listed = std::find(addresses_.begin(), addresses_.end(), from);
  if (listed != addresses_.end() && addresses_.size() < 2) {
    if (!standby_answer) return std::nullopt;
    return current_;
  }
  const size_t i = listed == addresses_.end() ? next_++ : (listed - addresses_.begin()) + 1;
  current_ = addresses_[i % addresses_.size()];
  return current_;
}

}  // namespace hollerith::rpc
