#include "coordinator/web/event_streams.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>

#include "common/base/json_text.h"
#include "coordinator/web/chunk_queue.h"
#include "coordinator/web/web_json.h"

namespace hollerith::web {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kPoll{250};          // how often a waiting stream checks for Stop
constexpr milliseconds kKeepAlive{5000};    // an idle stream's comment line
constexpr milliseconds kListInterval{500};  // how often the job list is compared

std::string Sse(const std::string& event, const nlohmann::json& data) {
  // Card output is bytes: invalid UTF-8 becomes U+FFFD rather than an exception.
  const std::string text = JsonText(data);
  return (event.empty() ? "" : "event: " + event + "\n") + "data: " + text + "\n\n";
}

void StartEventStream(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
}

bool Write(httplib::DataSink& sink, const std::string& text) {
  return sink.write(text.data(), text.size());
}

// One call of a content provider fed by `queue`: writes what arrives (or a keep-alive comment
// after kKeepAlive of silence); false ends the response (stopping, or the browser is gone).
bool Drain(RouteContext& ctx, ChunkQueue& queue, httplib::DataSink& sink) {
  const auto quiet_until = steady_clock::now() + kKeepAlive;
  while (!ctx.stopping) {
    bool closed = false;
    const std::string text = queue.Take(kPoll, &closed);
    if (!text.empty() && !Write(sink, text)) return false;
    if (closed) {
      sink.done();
      return true;
    }
    if (!text.empty()) return true;
    if (steady_clock::now() >= quiet_until) return Write(sink, ": idle\n\n");
  }
  return false;
}

struct WatchHolder {
  std::unique_ptr<JobWatch> watch;
};

}  // namespace

void StreamJobEvents(RouteContext& ctx, std::shared_ptr<Client> client, const std::string& job,
                     const httplib::Request& req, httplib::Response& res) {
  // A reconnecting EventSource says how far it got; the replay skips that many events.
  uint64_t skip = 0;
  const std::string last = req.get_header_value("Last-Event-ID");
  if (!last.empty()) skip = std::strtoull(last.c_str(), nullptr, 10);
  auto queue = std::make_shared<ChunkQueue>();
  auto holder = std::make_shared<WatchHolder>();
  holder->watch = client->Watch(
      job, 0,
      [queue, skip, index = uint64_t{0}](const v1::JobEvent& ev) mutable {
        if (++index <= skip) return;
        queue->Push("id: " + std::to_string(index) + "\n" + Sse("", EventJson(ev)));
      },
      [queue](const Status& s) {
        queue->Close(s.ok() ? Sse("end", nlohmann::json::object())
                            : Sse("failed", {{"error", s.message()}}));
      },
      /*reconnect_for_s=*/5);
  StartEventStream(res);
  res.set_chunked_content_provider(
      "text/event-stream",
      [&ctx, queue](size_t, httplib::DataSink& sink) { return Drain(ctx, *queue, sink); },
      [holder](bool) { holder->watch.reset(); });
}

void StreamJobList(RouteContext& ctx, std::shared_ptr<Client> client, httplib::Response& res) {
  StartEventStream(res);
  auto last_sent = std::make_shared<std::string>();
  res.set_chunked_content_provider("text/event-stream",
                                   [&ctx, client, last_sent](size_t, httplib::DataSink& sink) {
                                     const auto quiet_until = steady_clock::now() + kKeepAlive;
                                     auto next_check = steady_clock::now();
                                     while (!ctx.stopping) {
                                       if (steady_clock::now() >= next_check) {
                                         next_check = steady_clock::now() + kListInterval;
                                         auto jobs = client->ListJobs();
                                         if (!jobs.ok()) {
                                           Write(sink, Sse("failed", {{"error", jobs.message()}}));
                                           sink.done();
                                           return true;
                                         }
                                         std::string text = JsonText(JobListJson(*jobs));
                                         if (text != *last_sent) {
                                           *last_sent = text;
                                           return Write(sink, "data: " + text + "\n\n");
                                         }
                                       }
                                       if (steady_clock::now() >= quiet_until)
                                         return Write(sink, ": idle\n\n");
                                       std::this_thread::sleep_for(kPoll);
                                     }
                                     return false;
                                   });
}

void StreamCardLog(RouteContext& ctx, std::shared_ptr<Client> client, const std::string& job,
                   const std::string& card, httplib::Response& res) {
  auto queue = std::make_shared<ChunkQueue>();
  // ReadLog blocks (with follow, until the card ends) and cannot be cancelled from here, so it
  // runs on a thread of its own that outlives a closed tab and ends with the card (or the gRPC
  // server); the response only drains what it read.
  ctx.threads.Run([client, queue, job, card] {
    Status s = client->ReadLog(job, card, /*follow=*/true,
                               [&](const std::string& stream, const std::string& data) {
                                 queue->Push(Sse(stream == "stderr" ? "stderr" : "stdout", data));
                               });
    queue->Close(
        Sse("end", s.ok() ? nlohmann::json::object() : nlohmann::json{{"error", s.message()}}));
  });
  StartEventStream(res);
  res.set_chunked_content_provider(
      "text/event-stream",
      [&ctx, queue](size_t, httplib::DataSink& sink) { return Drain(ctx, *queue, sink); });
}

}  // namespace hollerith::web
