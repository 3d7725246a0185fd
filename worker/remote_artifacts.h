// ArtifactAccess over the coordinator's artifact store. Publish puts the file into the worker's
// local cache (a content-addressed ArtifactStore) for its digest, then uploads it in 1 MiB chunks,
// the first carrying the sha256. Fetch serves from the cache when it can; otherwise it downloads,
// verifies the digest of what arrived, caches it and copies it to the destination. Network and
// disk work runs on a small thread pool, never on the io_context; callbacks run on the io_context.
// Concurrent fetches of one digest share a single download. A transfer the coordinator is not
// there for (UNAVAILABLE: a restart, a partition) is tried again with backoff for the patience
// (set_unreachable_patience), so that a card kept running through an outage of the coordinator
// still publishes its outputs and fetches its inputs once it is back; past that it fails.
#pragma once

#include <grpcpp/grpcpp.h>

#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/artifacts/access.h"
#include "common/artifacts/store.h"
#include "common/core/clock.h"
#include "hollerith.grpc.pb.h"
#include "proto/rpc_leader.h"
#include "worker/metrics.h"

namespace hollerith::worker {

class RemoteArtifacts : public ArtifactAccess {
 public:
  static constexpr size_t kChunkBytes = size_t{1} << 20;
  static constexpr std::chrono::minutes kTransferTimeout{30};

  // `clock` is the worker's Lamport clock; it is only touched on the io_context's thread.
  RemoteArtifacts(asio::io_context& io, LamportClock& clock, std::filesystem::path cache_dir,
                  rpc::LeaderFollower& coordinators, std::string token, size_t threads = 4);
  // Cancels transfers in flight, drops queued pool jobs (their callbacks never run) and waits for
  // the running ones.
  ~RemoteArtifacts() override;

  void Publish(const std::filesystem::path& file,
               std::function<void(Result<std::string>)> done) override;
  void Fetch(const std::string& digest, const std::filesystem::path& dest,
             std::function<void(Status)> done) override;

  // Forgets which blobs this process uploaded, so they are uploaded again (after a reconnect the
  // coordinator may be a different process).
  void ForgetUploads();
  // Metrics to update from the transfer threads (nullptr: none); set before the first transfer.
  void SetMetrics(const ArtifactMetrics* metrics) { metrics_ = metrics; }
  // How long a transfer keeps trying while the coordinator is unreachable (zero, the default:
  // it fails at once). The worker sets its outage grace: what its kept stacks wait for anyway.
  void set_unreachable_patience(std::chrono::milliseconds patience);
  // Transfers waiting for the coordinator to come back fail now (their stacks were cancelled).
  void StopWaiting();
  // Tests: called on a pool thread each time a transfer waits to try again.
  void set_retry_observer(std::function<void()> observer);
  const ArtifactStore& cache() const { return cache_; }

 private:
  struct Waiter {
    std::filesystem::path dest;
    std::function<void(Status)> done;
  };

  // Pool threads. `unavailable` is set when the coordinator could not be reached.
  Status Upload(const std::string& digest, uint64_t lamport, uint64_t* remote_lamport,
                bool* unavailable);
  Status Download(const std::string& digest, uint64_t lamport, uint64_t* remote_lamport,
                  bool* unavailable);
  // Runs `attempt` until it succeeds, fails otherwise than by an unreachable coordinator, or the
  // patience is over (backing off between tries); its last status.
  Status WhileUnreachable(const std::function<Status(bool* unavailable)>& attempt);
  // Copies a cached blob to `dest`; a cached copy that no longer matches its digest is removed and
  // reported as missing (false) so it is downloaded again.
  bool MaterializeCached(const std::string& digest, const std::filesystem::path& dest,
                         Status* status);
  bool Register(grpc::ClientContext* ctx);
  void Unregister(grpc::ClientContext* ctx);
  bool WasUploaded(const std::string& digest);
  void MarkUploaded(const std::string& digest);
  // A transfer of blob `digest` that began at `began` succeeded: time and bytes to the metrics.
  void Observed(bool upload, std::chrono::steady_clock::time_point began,
                const std::string& digest);

  // Loop thread.
  void StartDownload(const std::string& digest, Waiter waiter);
  void OnDownloaded(const std::string& digest, Status status);

  asio::io_context& io_;
  LamportClock& clock_;
  ArtifactStore cache_;
  rpc::LeaderFollower& coordinators_;  // artifacts go to and come from the leader
  std::string token_;
  const ArtifactMetrics* metrics_ = nullptr;
  std::map<std::string, std::vector<Waiter>> downloads_;  // loop thread: digest -> waiting fetches

  std::mutex mu_;  // guards the members below (pool threads)
  std::set<grpc::ClientContext*> calls_;
  std::set<std::string> uploaded_;
  bool shutting_down_ = false;
  std::chrono::milliseconds patience_{0};
  uint64_t stop_waiting_ = 0;  // bumped by StopWaiting
  std::function<void()> retry_observer_;
  std::condition_variable wake_;  // StopWaiting, shutdown

  asio::thread_pool pool_;  // last: its threads use everything above
};

}  // namespace hollerith::worker
