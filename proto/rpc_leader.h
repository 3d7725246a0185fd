// Finding the leader among coordinators that share one PostgreSQL store. A standby listens and
// answers every call with UNAVAILABLE "not the leader; the leader is ADDR" and the trailing
// metadata `hollerith-standby` (always) and `hollerith-leader: ADDR` (when it knows who leads).
// Clients and workers take a list of coordinator addresses ("a:7070,b:7070"; one DNS name with
// several records works too: gRPC connects to one of them, and a standby there names the leader)
// and follow: a standby's answer moves them to the leader it names; an unreachable coordinator, to
// the next address of the list.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "hollerith.grpc.pb.h"

namespace hollerith::rpc {

inline constexpr char kStandbyMetadata[] = "hollerith-standby";
inline constexpr char kLeaderMetadata[] = "hollerith-leader";

// "a:1, b:2" -> {"a:1", "b:2"}; an error for an empty list or an empty entry.
Result<std::vector<std::string>> SplitAddresses(const std::string& text);

// True for a failure after which another coordinator may answer: UNAVAILABLE (unreachable, or a
// standby), or CANCELLED by the server (a standby handing its port to the leader it became, a
// coordinator shutting down).
inline bool MayBeElsewhere(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::CANCELLED;
}

// The standby's answer in a call's trailing metadata: the leader's address ("" when it knows of
// none, e.g. during an election); nullopt when a leader (or something else) answered.
std::optional<std::string> StandbyAnswer(
    const std::multimap<grpc::string_ref, grpc::string_ref>& trailing);

// The stubs of a list of coordinators and the one in use. Thread-safe; stubs live as long as the
// follower (references stay valid after a switch).
class LeaderFollower {
 public:
  using ChannelMaker = std::function<std::shared_ptr<grpc::Channel>(const std::string& address)>;
  LeaderFollower(std::vector<std::string> addresses, ChannelMaker make_channel);
  // `addresses` as the flag has it: "a:1,b:2" (as given if it is not a list: the channel then
  // says what is wrong with it).
  LeaderFollower(const std::string& addresses, ChannelMaker make_channel);

  struct Target {
    v1::Coordinator::Stub* stub;
    std::string address;
  };
  // The coordinator in use: its stub and address, taken together.
  Target current();
  v1::Coordinator::Stub& stub() { return *current().stub; }
  std::string address() const;
  size_t size() const { return addresses_.size(); }

  // After a call to `from` (the address() it used) failed with `status`: moves to another
  // coordinator if there is one to try, and says which (nullopt: give up). A standby that names
  // the leader moves it there (with several addresses, only to a name of the list: another name
  // may be one only the coordinators' network resolves); an UNAVAILABLE one (a standby that
  // knows no leader yet, or unreachable) to the next address of the list, if there are several;
  // a lone standby that knows no leader yet is to be asked again (its own address is returned).
  // The named leader may be tried at once; other moves after a pause.
  std::optional<std::string> AfterFailure(const std::string& from, const grpc::Status& status,
                                          const std::optional<std::string>& standby_answer);

 private:
  v1::Coordinator::Stub& StubOf(const std::string& address);  // mu_ held

  const std::vector<std::string> addresses_;
  ChannelMaker make_channel_;
  mutable std::mutex mu_;
  std::string current_;
  size_t next_ = 0;  // where to go back to the list after a followed leader is gone
  std::map<std::string, std::unique_ptr<v1::Coordinator::Stub>> stubs_;
};

}  // namespace hollerith::rpc
