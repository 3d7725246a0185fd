// hollerith::Client: the client side of the coordinator's API, for the CLI and for programs.
// Every method is thread-safe, returns errors as values with messages meant for people, stamps each
// request with the client's Lamport time and merges the time of every reply. Unary calls carry
// deadlines; streams run until they end or are cancelled.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "hollerith.pb.h"

namespace grpc {
class Channel;
}

namespace hollerith {

struct SubmittedJob {
  std::string job_id;
  std::string name;
  bool existing = false;  // the idempotency key matched an earlier submission
  std::string tenant;
  std::vector<std::string> warnings;  // e.g. a stack no connected worker can hold
};

// A running WatchJob stream. Destroying it cancels the stream and joins its thread; on_done has run
// by then (with an error if it was cancelled before the job finished).
class JobWatch {
 public:
  virtual ~JobWatch() = default;
  virtual void Cancel() = 0;  // ends the stream soon; on_done still runs once
  virtual void Join() = 0;    // waits until on_done has returned
};

// A TLS connection's PEM texts: the cluster's CA bundle (to check the coordinator) and this
// client's certificate (role client, from `hollerith certs issue NAME --role client`) and key.
struct ClientTls {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// What Client::GetJob asks for beyond the job's state, counts and stacks' statuses.
struct JobParts {
  bool graph = false;   // the job's stacks and cards (`graph`, for jobs small enough to draw)
  bool results = true;  // the result document (`result_json`, `card_order`); skip it where only
                        // the stacks are read: on a large job it is most of the call's cost
};

class Client {
 public:
  using EventCallback = std::function<void(const v1::JobEvent&)>;
  using DoneCallback = std::function<void(const Status&)>;
  using LogCallback = std::function<void(const std::string& stream, const std::string& data)>;
  // A note for people while a stream rides through an outage (e.g. a coordinator restart).
  using NoticeCallback = std::function<void(const std::string& note)>;

  // `address` is host:port, or a list "a:7070,b:7070" of coordinators sharing one PostgreSQL
  // store: calls find the leader (a standby names it; an unreachable one is skipped) and follow
  // it through a failover. No connection is made until the first call.
  Client(std::string address, std::string token);
  // Over a channel made elsewhere (e.g. a server's in-process channel); `name` stands for the
  // address in messages.
  Client(std::shared_ptr<grpc::Channel> channel, std::string name, std::string token);
  // Over TLS; the certificate is the credential (no token). The address's host must be one of
  // the coordinator certificate's --host names.
  Client(std::string address, const ClientTls& tls);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  const std::string& address() const;
  // Where Watch streams report that they lost the coordinator and are reconnecting; call before
  // the first Watch. Default: no notes.
  void SetNotice(NoticeCallback notice);
  uint64_t lamport() const;

  // `spec_name` names the spec in error messages (INVALID_ARGUMENT carries "file:line:col: ...").
  // Submitting again with the same `idempotency_key` returns the first job (existing = true).
  // `cache`: how the job uses the result cache ("": on; "refresh", "read-only").
  Result<SubmittedJob> Submit(const std::string& spec_text, const std::string& spec_name,
                              const std::string& idempotency_key, const std::string& cache = "");
  // Submit, then the job's events as Watch gives them, until it finishes, in one call on this
  // thread (a call fewer than Submit and then Watch). `on_submitted` runs once the job is
  // accepted, `on_event` for each event; the last is job_finished with the job's state. A stream
  // that breaks after the job was accepted goes on as a Watch (skipping the events delivered);
  // one that breaks before it falls back to Submit (with a key only: otherwise the error), as
  // do a standby's answer (Submit follows it to the leader) and a coordinator too old to know
  // this call.
  Result<SubmittedJob> SubmitAndWatch(const std::string& spec_text, const std::string& spec_name,
                                      const std::string& idempotency_key, const std::string& cache,
                                      const std::function<void(const SubmittedJob&)>& on_submitted,
                                      const EventCallback& on_event);
  // `job` is a job id, or a job name unique among the kept jobs.
  Result<v1::JobStatus> GetJob(const std::string& job, JobParts parts = {});
  // Returns the job's state after the request (e.g. "cancelled").
  Result<std::string> Cancel(const std::string& job);
  // Removes a finished job (results, logs, trace) from the coordinator; returns its id.
  Result<std::string> Delete(const std::string& job);
  Result<std::vector<v1::JobStatus>> ListJobs();
  // With `coordinator_version`, also the coordinator's own version ("" from one too old to say);
  // with `insecure_plaintext`, whether it serves plaintext beyond loopback (--insecure-plaintext).
  Result<v1::ListTenantsResponse> ListTenants();
  // The result cache's entries of the caller's tenant (`key`: those whose key starts so, with
  // their stdout); RemoveCache removes them ("": all of them) and returns how many.
  Result<v1::ListCacheResponse> ListCache(const std::string& key = "");
  Result<uint64_t> RemoveCache(const std::string& key);
  Result<std::vector<v1::WorkerInfo>> ListWorkers(std::string* coordinator_version = nullptr,
                                                  bool* insecure_plaintext = nullptr);

  // Streams the job's events with Lamport time > from_lamport (a replay, then live ones) to
  // on_event, on a thread of its own, until the job finishes (on_done gets Ok) or the stream fails.
  // A broken connection is re-opened (skipping the events already delivered) for up to
  // `reconnect_for_s` seconds without progress.
  // Callbacks run on the watch thread, one at a time.
  std::unique_ptr<JobWatch> Watch(const std::string& job, uint64_t from_lamport,
                                  EventCallback on_event, DoneCallback on_done,
                                  int reconnect_for_s = 30);
  // Blocks until the job is finished (calling on_event for every event meanwhile, if given) and
  // returns its final status.
  Result<v1::JobStatus> WaitForCompletion(const std::string& job, EventCallback on_event = {});

  // Streams a card's captured output ("STACK.CARD"); with `follow`, as the card writes it, until
  // the card ends.
  Status ReadLog(const std::string& job, const std::string& card, bool follow,
                 const LogCallback& on_chunk);
  // As ReadLog, with every chunk as it came: its card (STACK.CARD), and the card's end (exit code
  // and state). An empty `card` follows every card of the job until the job ends.
  Status ReadLogChunks(const std::string& job, const std::string& card, bool follow,
                       const std::function<void(const v1::LogChunk&)>& on_chunk);
  // The job's trace as Chrome Trace Event JSON (what `hollerith verify` reads).
  Result<std::string> GetTrace(const std::string& job);

  struct Shared;  // channel, stub, token, clock: shared with watch threads

 private:
  // Watches job `id` (an id, not a name) from the start until it finishes; `skip` events first
  // are not passed on (already delivered).
  Status WatchToEnd(const std::string& id, EventCallback on_event, uint64_t skip = 0);

  std::shared_ptr<Shared> shared_;
};

// A fresh random idempotency key (128 bits, hex). Reuse a key to make a retried Submit idempotent.
std::string NewIdempotencyKey();

// True for the final states of a job: succeeded, failed, cancelled.
bool IsFinishedJobState(const std::string& state);

}  // namespace hollerith
