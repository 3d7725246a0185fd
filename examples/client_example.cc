// Submits a job spec to a coordinator with hollerith::Client and waits for it, printing every event
// as it arrives (per-event callback) and the result when the job is done (completion callback).
//
//   hollerith up --workers 2          # in another shell; it prints the two exports below
//   export HOLLERITH_COORDINATOR=127.0.0.1:PORT HOLLERITH_TOKEN_FILE=PATH
//   hollerith-client-example examples/report.yaml
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>

#include <hollerith/auth_token.h>
#include <hollerith/client.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: %s SPEC_FILE (with HOLLERITH_COORDINATOR, HOLLERITH_TOKEN_FILE set)\n",
                 argv[0]);
    return 2;
  }
  const char* address = std::getenv("HOLLERITH_COORDINATOR");
  auto token = hollerith::LoadToken(hollerith::ResolveTokenFile("", ""));
  if (address == nullptr || !token.ok()) {
    std::fprintf(stderr,
                 "set HOLLERITH_COORDINATOR and HOLLERITH_TOKEN_FILE (see `hollerith up`)\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream spec;
  spec << in.rdbuf();
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }

  hollerith::Client client(address, *token);
  auto job = client.Submit(spec.str(), argv[1], hollerith::NewIdempotencyKey());
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", job.message().c_str());
    return 2;
  }
  std::printf("submitted %s (job %s)\n", job->name.c_str(), job->job_id.c_str());

  std::promise<hollerith::Status> done;
  auto watch = client.Watch(
      job->job_id, /*from_lamport=*/0,
      [](const hollerith::v1::JobEvent& e) {
        // `card` is "STACK.CARD" for card events; stack events name only the stack.
        std::printf("[lamport %4llu] %-13s %-12s %s\n",
                    static_cast<unsigned long long>(e.lamport()), e.kind().c_str(),
                    (e.card().empty() ? e.stack() : e.card()).c_str(), e.node().c_str());
      },
      [&done](const hollerith::Status& s) { done.set_value(s); });
  hollerith::Status watched = done.get_future().get();
  watch->Join();
  if (!watched.ok()) {
    std::fprintf(stderr, "%s\n", watched.message().c_str());
    return 2;
  }

  auto status = client.GetJob(job->job_id);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.message().c_str());
    return 2;
  }
  std::printf("job %s %s%s%s\nresult: %s\n", status->name().c_str(), status->state().c_str(),
              status->reason().empty() ? "" : ": ", status->reason().c_str(),
              status->result_json().c_str());
  return status->state() == "succeeded" ? 0 : 1;
}
