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

TEST(WebAuth, BearerOrCookieMustMatchTheToken) {
  httplib::Request req;
  EXPECT_FALSE(Authorized(req, "secret"));
  req.headers.emplace("Authorization", "Bearer secret");
  EXPECT_TRUE(Authorized(req, "secret"));
  httplib::Request wrong;
  wrong.headers.emplace("Authorization", "Bearer secreT");
  wrong.headers.emplace("Cookie", "hollerith_token=nope");
  EXPECT_FALSE(Authorized(wrong, "secret"));
  httplib::Request cookie;
  cookie.headers.emplace("Cookie", "other=1; hollerith_token=secret");
  EXPECT_TRUE(Authorized(cookie, "secret"));
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
