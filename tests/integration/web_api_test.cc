// The coordinator's web view over HTTP, as the page (or a script) uses it: a real coordinator and
// worker, the web view on 127.0.0.1:0, requests with cpp-httplib's client. Without the token
// everything but the static files is 401; the login form sets an HttpOnly SameSite=Strict cookie;
// the JSON has the documented shape; the event stream delivers a job's events live (a card that
// waits for a file the test creates only once the stream has shown the card running).
#include <httplib.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/auth/auth_token.h"
#include "tests/support/cluster.h"
#include "tests/support/temp_dir.h"

namespace hollerith::testing {
namespace {

struct Url {
  std::string host;
  int port = 0;
};

Url ParseWebUrl(const std::string& url) {  // http://HOST:PORT/
  const std::string rest = url.substr(url.find("//") + 2);
  const size_t colon = rest.rfind(':');
  return {rest.substr(0, colon), std::stoi(rest.substr(colon + 1))};
}

// Server-sent events: (event name, data) pairs of a complete stream text.
std::vector<std::pair<std::string, std::string>> ParseSse(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line, event = "message", data;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (!data.empty()) out.emplace_back(event, data);
      event = "message";
      data.clear();
    } else if (line.rfind("event: ", 0) == 0) {
      event = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      data += line.substr(6);
    }
  }
  return out;
}

class WebApiTest : public ::testing::Test {
 protected:
  WebApiTest() : cluster_({{"x"}}) {
    const Url url = ParseWebUrl(cluster_.web_url());
    http_ = std::make_unique<httplib::Client>(url.host, url.port);
    http_->set_read_timeout(30, 0);
    http_->set_connection_timeout(5, 0);
    token_ = *LoadToken(cluster_.token_file());
  }
  httplib::Headers Bearer(const std::string& token) const {
    return {{"Authorization", "Bearer " + token}};
  }
  // Submits a job whose card B.wait waits for `go_file`; returns its id.
  std::string SubmitWaitingJob(const std::string& go_file) {
    const std::string spec = dir_.path() + "/web.yaml";
    std::ofstream(spec) << "name: web\n"
                           "stacks:\n"
                           "  A:\n"
                           "    cards:\n"
                           "      - id: one\n"
                           "        run: echo one\n"
                           "  B:\n"
                           "    cards:\n"
                           "      - id: wait\n"
                           "        after: [A.one]\n"
                           "        run: sh -c 'while [ ! -e "
                        << go_file
                        << " ]; do sleep 0.05; done; echo hello from B.wait'\n"
                           "        timeout: 60s\n";
    CommandResult r = cluster_.Cli({"submit", spec});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  TempDir dir_;
  TestCluster cluster_;
  std::unique_ptr<httplib::Client> http_;
  std::string token_;
};

TEST_F(WebApiTest, WithoutTheTokenOnlyTheLoginPageAndStaticFiles) {
  auto api = http_->Get("/api/jobs");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 401);
  EXPECT_EQ(nlohmann::json::parse(api->body)["error"], "unauthorized");
  auto wrong = http_->Get("/api/jobs", Bearer(token_ + "x"));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto events = http_->Get("/api/jobs/1/events");
  ASSERT_TRUE(events);
  EXPECT_EQ(events->status, 401);

  auto page = http_->Get("/jobs/1");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 401);
  EXPECT_NE(page->body.find("id=\"login\""), std::string::npos) << "the login page, in place";
  EXPECT_EQ(page->body.find(token_), std::string::npos);

  auto script = http_->Get("/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(script->body.find("EventSource"), std::string::npos);
}

TEST_F(WebApiTest, LoginSetsAStrictHttpOnlyCookieThatAuthorizes) {
  auto failed =
      http_->Post("/login", "token=nope&next=%2Fjobs%2F1", "application/x-www-form-urlencoded");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 303);
  EXPECT_FALSE(failed->has_header("Set-Cookie"));
  EXPECT_EQ(failed->get_header_value("Location").rfind("/login?failed=1", 0), 0u);

  auto ok = http_->Post("/login", "token=" + token_ + "&next=%2Fjobs%2F1",
                        "application/x-www-form-urlencoded");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 303);
  EXPECT_EQ(ok->get_header_value("Location"), "/jobs/1");
  const std::string cookie = ok->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_EQ(ok->get_header_value("Location").find(token_), std::string::npos);

  // Off-site `next` values go home instead.
  auto offsite = http_->Post("/login", "token=" + token_ + "&next=%2F%2Fevil.example",
                             "application/x-www-form-urlencoded");
  ASSERT_TRUE(offsite);
  EXPECT_EQ(offsite->get_header_value("Location"), "/");

  const std::string pair = cookie.substr(0, cookie.find(';'));
  auto list = http_->Get("/api/jobs", {{"Cookie", pair}});
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  auto page = http_->Get("/", {{"Cookie", pair}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/app.js"), std::string::npos);
}

TEST_F(WebApiTest, JsonShapesAndALiveEventStream) {
  const std::string go_file = dir_.path() + "/go";
  const std::string job = SubmitWaitingJob(go_file);
  ASSERT_FALSE(job.empty());

  // The stream, from the job's start: the go file is created only once it has shown B.wait
  // running, so what follows was pushed live.
  std::string stream;
  bool released = false;
  auto events =
      http_->Get("/api/jobs/" + job + "/events", Bearer(token_), [&](const char* data, size_t n) {
        stream.append(data, n);
        if (!released && stream.find("\"kind\":\"card_started\"") != std::string::npos &&
            stream.find("\"card\":\"B.wait\"") != std::string::npos) {
          released = true;
          std::ofstream(go_file) << "go\n";
        }
        return true;
      });
  ASSERT_TRUE(events) << httplib::to_string(events.error());
  EXPECT_EQ(events->status, 200);
  EXPECT_EQ(events->get_header_value("Content-Type"), "text/event-stream");
  ASSERT_TRUE(released) << stream;
  const auto sse = ParseSse(stream);
  ASSERT_FALSE(sse.empty());
  EXPECT_EQ(sse.back().first, "end");
  bool finished_wait = false, job_finished = false;
  for (const auto& [event, data] : sse) {
    if (event != "message") continue;
    const auto ev = nlohmann::json::parse(data);
    for (const char* key : {"lamport", "kind", "stack", "card", "node", "attempt", "wall_us"}) {
      EXPECT_TRUE(ev.contains(key)) << key << " in " << data;
    }
    if (ev["kind"] == "card_finished" && ev["card"] == "B.wait") {
      finished_wait = true;
      EXPECT_EQ(ev["node"], "x");
    }
    if (ev["kind"] == "job_finished") job_finished = true;
  }
  EXPECT_TRUE(finished_wait) << stream;
  EXPECT_TRUE(job_finished) << stream;

  auto detail = http_->Get("/api/jobs/" + job, Bearer(token_));
  ASSERT_TRUE(detail);
  ASSERT_EQ(detail->status, 200);
  const auto j = nlohmann::json::parse(detail->body);
  EXPECT_EQ(j["id"], job);
  EXPECT_EQ(j["name"], "web");
  EXPECT_EQ(j["state"], "succeeded");
  EXPECT_EQ(j["cards_done"], 2);
  EXPECT_EQ(j["cards_total"], 2);
  ASSERT_EQ(j["graph"].size(), 2u);
  EXPECT_EQ(j["graph"][1]["id"], "B");
  EXPECT_EQ(j["graph"][1]["cards"][0]["name"], "B.wait");
  EXPECT_EQ(j["graph"][1]["cards"][0]["after"], nlohmann::json::array({"A.one"}));
  ASSERT_EQ(j["stacks"].size(), 2u);
  EXPECT_EQ(j["stacks"][0]["node"], "x");
  EXPECT_EQ(j["cards"]["B.wait"]["state"], "succeeded");
  EXPECT_EQ(j["cards"]["B.wait"]["exit_code"], 0);
  EXPECT_FALSE(j["cards"]["B.wait"].contains("stdout")) << "output comes from the log endpoint";

  auto list = http_->Get("/api/jobs", Bearer(token_));
  ASSERT_TRUE(list);
  const auto jobs = nlohmann::json::parse(list->body)["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["id"], job);
  EXPECT_EQ(jobs[0]["state"], "succeeded");
  EXPECT_GT(jobs[0]["submitted_wall_us"].get<int64_t>(), 0);

  auto log = http_->Get("/api/jobs/" + job + "/cards/B.wait/log", Bearer(token_));
  ASSERT_TRUE(log);
  EXPECT_EQ(log->status, 200);
  std::string out;
  const auto chunks = ParseSse(log->body);
  for (const auto& [event, data] : chunks) {
    if (event == "stdout") out += nlohmann::json::parse(data).get<std::string>();
  }
  EXPECT_EQ(out, "hello from B.wait\n") << log->body;
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.back().first, "end");

  auto missing = http_->Get("/api/jobs/nope", Bearer(token_));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(nlohmann::json::parse(missing->body).contains("error"));
}

// The cluster page's JSON, and the actions: a cancel needs the session's CSRF token (from
// /api/session) in its header, and a refused one changes nothing; the result downloads once the
// job has ended, the trace as an attachment.
TEST_F(WebApiTest, ActionsNeedTheSessionsCsrfTokenAndTheClusterIsListed) {
  const std::string job = SubmitWaitingJob(dir_.path() + "/never");
  auto session = http_->Get("/api/session", Bearer(token_));
  ASSERT_TRUE(session);
  ASSERT_EQ(session->status, 200) << session->body;
  const std::string csrf = nlohmann::json::parse(session->body).value("csrf", "");
  EXPECT_EQ(csrf.size(), 64u) << session->body;
  EXPECT_EQ(http_->Get("/api/session")->status, 401);

  auto cluster = http_->Get("/api/cluster", Bearer(token_));
  ASSERT_TRUE(cluster);
  ASSERT_EQ(cluster->status, 200) << cluster->body;
  const auto c = nlohmann::json::parse(cluster->body);
  ASSERT_EQ(c["workers"].size(), 1u) << c;
  EXPECT_EQ(c["workers"][0]["name"], "x");
  EXPECT_GT(c["workers"][0]["connected_wall_us"].get<int64_t>(), 0) << c;
  EXPECT_FALSE(c["workers"][0]["capacity"].get<std::string>().empty()) << c;
  bool placed_b = false;
  for (const auto& p : c["workers"][0]["placed_stacks"]) {
    placed_b |= p["job_id"] == job && p["stack"] == "B" && p["job_name"] == "web";
  }
  EXPECT_TRUE(placed_b) << c;
  EXPECT_TRUE(c["waiting"].is_array() && c["tenants"].is_array()) << c;

  const std::string cancel = "/api/jobs/" + job + "/cancel";
  auto without = http_->Post(cancel, Bearer(token_), "", "application/json");
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 403) << without->body;
  auto headers = Bearer(token_);
  headers.emplace("X-CSRF-Token", std::string(64, '0'));
  EXPECT_EQ(http_->Post(cancel, headers, "", "application/json")->status, 403);
  EXPECT_EQ(http_->Post(cancel, "", "application/json")->status, 401);
  auto running = http_->Get("/api/jobs/" + job, Bearer(token_));
  EXPECT_EQ(nlohmann::json::parse(running->body)["state"], "running") << running->body;
  EXPECT_EQ(http_->Get("/api/jobs/" + job + "/result", Bearer(token_))->status, 409);

  auto with = Bearer(token_);
  with.emplace("X-CSRF-Token", csrf);
  auto cancelled = http_->Post(cancel, with, "", "application/json");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->status, 200) << cancelled->body;
  std::string state;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       state != "cancelled" && std::chrono::steady_clock::now() < deadline;) {
    auto now = http_->Get("/api/jobs/" + job, Bearer(token_));
    state = nlohmann::json::parse(now->body).value("state", "");
    if (state != "cancelled") std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(state, "cancelled");
  auto result = http_->Get("/api/jobs/" + job + "/result", Bearer(token_));
  ASSERT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(nlohmann::json::parse(result->body)["state"], "cancelled");
  EXPECT_NE(result->get_header_value("Content-Disposition").find(job + ".result.json"),
            std::string::npos);
  auto trace = http_->Get("/api/jobs/" + job + "/trace", Bearer(token_));
  ASSERT_EQ(trace->status, 200);
  EXPECT_TRUE(nlohmann::json::parse(trace->body).contains("traceEvents"));
  EXPECT_NE(trace->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
}

}  // namespace
}  // namespace hollerith::testing
