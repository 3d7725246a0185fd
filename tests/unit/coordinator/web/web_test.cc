// The web view's pure parts: cookies, login redirects, the JSON of a status.
#include <gtest/gtest.h>

#include "coordinator/web/web_assets.h"
#include "coordinator/web/web_auth.h"
#include "coordinator/web/web_json.h"
#include "coordinator/web/web_server.h"

namespace hollerith::web {
namespace {

TEST(WebAuth, CookieValueFindsTheNamedCookie) {
  EXPECT_EQ(CookieValue("a=1; hollerith_token=abc; b=2", "hollerith_token"), "abc");
  EXPECT_EQ(CookieValue("hollerith_token=abc", "hollerith_token"), "abc");
  EXPECT_EQ(CookieValue("xhollerith_token=abc", "hollerith_token"), "");
  EXPECT_EQ(CookieValue("", "hollerith_token"), "");
}

TEST(WebAuth, BearerOrCookieMustCarryATokenTheCheckAccepts) {
  std::vector<std::string> asked;
  const TokenCheck accepts = [&asked](std::string_view token) {
    asked.emplace_back(token);
    return token == "secret" || token == "second";
  };
  httplib::Request req;
  EXPECT_FALSE(AcceptedToken(req, accepts));
  EXPECT_TRUE(asked.empty()) << "no token, nothing to check";
  req.headers.emplace("Authorization", "Bearer secret");
  EXPECT_EQ(AcceptedToken(req, accepts), "secret");
  httplib::Request wrong;
  wrong.headers.emplace("Authorization", "Bearer secreT");
  wrong.headers.emplace("Cookie", "hollerith_token=nope");
  EXPECT_FALSE(AcceptedToken(wrong, accepts));
  httplib::Request cookie;
  cookie.headers.emplace("Cookie", "other=1; hollerith_token=second");
  EXPECT_EQ(AcceptedToken(cookie, accepts), "second");
  // A rejected bearer header does not hide a valid cookie (a script's stale header).
  httplib::Request both;
  both.headers.emplace("Authorization", "Bearer old");
  both.headers.emplace("Cookie", "hollerith_token=secret");
  EXPECT_EQ(AcceptedToken(both, accepts), "secret");
}

TEST(WebAuth, LoginSetsTheAcceptedTokenAndRefusesOthers) {
  // Takes anything starting "secret": the cookie guard, not the check, must refuse the last one.
  const TokenCheck accepts = [](std::string_view token) { return token.starts_with("secret"); };
  auto login = [&](const std::string& token) {
    httplib::Request req;
    req.params.emplace("token", token);
    req.params.emplace("next", "/jobs/3");
    httplib::Response res;
    HandleLogin(req, res, accepts, /*secure=*/false);
    return res;
  };
  httplib::Response ok = login(" secret ");
  EXPECT_EQ(ok.status, 303);
  EXPECT_EQ(ok.get_header_value("Location"), "/jobs/3");
  EXPECT_EQ(ok.get_header_value("Set-Cookie").rfind("hollerith_token=secret; Path=/; HttpOnly", 0),
            0u)
      << ok.get_header_value("Set-Cookie");
  for (const std::string bad : {"nope", "", "secret; Domain=evil.example"}) {
    httplib::Response res = login(bad);
    EXPECT_EQ(res.status, 303) << bad;
    EXPECT_EQ(res.get_header_value("Location").rfind("/login?failed=1", 0), 0u) << bad;
    EXPECT_FALSE(res.has_header("Set-Cookie")) << bad;
  }
}

TEST(WebAuth, NextStaysOnThisSite) {
  EXPECT_EQ(SafeNext("/jobs/3"), "/jobs/3");
  EXPECT_EQ(SafeNext("//evil.example/"), "/");
  EXPECT_EQ(SafeNext("/\\evil.example"), "/");
  EXPECT_EQ(SafeNext("https://evil.example/"), "/");
  EXPECT_EQ(SafeNext(""), "/");
  EXPECT_EQ(SafeNext("/a\r\nSet-Cookie: x"), "/");
}

TEST(WebAssets, PagesAndScriptsAreCompiledIn) {
  for (const char* path : {"/index.html", "/login.html", "/app.js", "/login.js", "/style.css"}) {
    const WebAsset* a = FindAsset(path);
    ASSERT_NE(a, nullptr) << path;
    EXPECT_FALSE(a->body.empty()) << path;
  }
  EXPECT_EQ(FindAsset("/nope.js"), nullptr);
  EXPECT_NE(FindAsset("/index.html")->body.find("<script src=\"/app.js\">"), std::string::npos);
  EXPECT_EQ(ContentTypeOf("/a.css"), "text/css; charset=utf-8");
}

// The job graph's layout: dagre, installed from npm at build time (coordinator/web/package.json),
// is compiled in with the worker that loads it, from this server, never from elsewhere.
TEST(WebAssets, TheGraphLayoutAndItsBundledDagreAreCompiledIn) {
  const WebAsset* dagre = FindAsset("/dagre.min.js");
  ASSERT_NE(dagre, nullptr);
  EXPECT_NE(dagre->body.find("var dagre="), std::string::npos) << "a script defining `dagre`";
  const WebAsset* worker = FindAsset("/dag_layout_worker.js");
  ASSERT_NE(worker, nullptr);
  EXPECT_NE(worker->body.find("importScripts('/dagre.min.js')"), std::string::npos);
  const std::string_view page = FindAsset("/index.html")->body;
  for (const char* script :
       {"/dag_model.js", "/dag_layout.js", "/dag_camera.js", "/dag_minimap.js", "/dag_view.js"}) {
    EXPECT_NE(FindAsset(script), nullptr) << script;
    // Before app.js, which draws the graph with them.
    EXPECT_LT(page.find(std::string("<script src=\"") + script + "\">"), page.find("/app.js"))
        << script;
  }
}

TEST(WebJson, DetailNamesEdgesAndDropsStdout) {
  v1::JobStatus job;
  job.set_job_id("7");
  job.set_name("j");
  job.set_state("running");
  auto* a = job.add_graph();
  a->set_id("A");
  a->add_cards()->set_id("one");
  auto* b = job.add_graph();
  b->set_id("B");
  auto* two = b->add_cards();
  two->set_id("two");
  two->set_shell("echo hi");
  two->add_after()->set_stack(0);
  auto* in = two->add_inputs();
  in->mutable_from()->set_stack(0);
  in->set_path("f.txt");
  job.set_result_json(
      R"({"cards":{"A.one":{"state":"succeeded","stdout":"big","outputs":{}},"B.two":{"state":"pending"}}})");
  const auto j = JobDetailJson(job);
  EXPECT_EQ(j["id"], "7");
  EXPECT_EQ(j["graph"][1]["cards"][0]["name"], "B.two");
  EXPECT_EQ(j["graph"][1]["cards"][0]["run"], "echo hi");
  EXPECT_EQ(j["graph"][1]["cards"][0]["after"], nlohmann::json::array({"A.one"}));
  EXPECT_EQ(j["graph"][1]["cards"][0]["inputs"][0]["from"], "A.one");
  EXPECT_EQ(j["cards"]["A.one"]["state"], "succeeded");
  EXPECT_FALSE(j["cards"]["A.one"].contains("stdout"));

  v1::JobStatus big;  // no graph: too large to draw
  EXPECT_TRUE(JobDetailJson(big)["graph"].is_null());
}

TEST(WebJson, JobListIsNewestFirst) {
  std::vector<v1::JobStatus> jobs(2);
  jobs[0].set_job_id("1");
  jobs[0].set_submitted_wall_us(10);
  jobs[1].set_job_id("2");
  jobs[1].set_submitted_wall_us(20);
  const auto list = JobListJson(jobs)["jobs"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], "2");
  EXPECT_EQ(list[1]["id"], "1");
}

}  // namespace
}  // namespace hollerith::web
