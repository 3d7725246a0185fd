#include "coordinator/web/web_routes.h"

#include "common/base/json_text.h"
#include "coordinator/web/cluster_json.h"
#include "coordinator/web/event_streams.h"
#include "coordinator/web/web_assets.h"
#include "coordinator/web/web_auth.h"
#include "coordinator/web/web_json.h"

namespace hollerith::web {

namespace {

using httplib::Request;
using httplib::Response;

void Serve(Response& res, const std::string& path, int status = 200) {
  const WebAsset* asset = FindAsset(path);
  if (asset == nullptr) {
    res.status = 404;
    return;
  }
  res.status = status;
  res.set_content(asset->body.data(), asset->body.size(), std::string(ContentTypeOf(path)).c_str());
}

// JSON bodies above this go out uncompressed. cpp-httplib compresses "application/json" with
// brotli at its highest quality when the browser accepts it: 2.75 s for the 1.8 MB graph of a
// 5,000-stack job, against 0.1 s to send it as it is over loopback or a LAN. It compresses only
// the exact type, so the same type with its charset parameter is sent as it is.
constexpr size_t kCompressedJsonLimit = 256 << 10;

void Json(Response& res, const nlohmann::json& body, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  std::string text = JsonText(body);
  const bool large = text.size() > kCompressedJsonLimit;
  res.set_content(std::move(text), large ? "application/json; charset=utf-8" : "application/json");
}

void JsonError(Response& res, const Status& s) {
  Json(res, {{"error", s.message()}}, s.code() == StatusCode::kNotFound ? 404 : 502);
}

// A page for people: without a valid token, the login page (401) instead.
httplib::Server::Handler Page(RouteContext& ctx) {
  return [&ctx](const Request& req, Response& res) {
    res.set_header("Cache-Control", "no-store");
    if (!AcceptedToken(req, ctx.accepts)) return Serve(res, "/login.html", 401);
    Serve(res, "/index.html");
  };
}

using ClientPtr = std::shared_ptr<Client>;

// An API endpoint: 401 with a JSON error without a valid token; the handler gets a client that
// calls the coordinator with the request's token.
httplib::Server::Handler Api(RouteContext& ctx,
                             std::function<void(const Request&, Response&, ClientPtr)> handler) {
  return [&ctx, handler = std::move(handler)](const Request& req, Response& res) {
    auto token = AcceptedToken(req, ctx.accepts);
    if (!token) return Json(res, {{"error", "unauthorized"}}, 401);
    handler(req, res, ctx.ClientFor(*token));
  };
}

// A state-changing endpoint (POST): also 403 without the session's CSRF token.
httplib::Server::Handler Action(RouteContext& ctx,
                                std::function<void(const Request&, Response&, ClientPtr)> handler) {
  return [&ctx, handler = std::move(handler)](const Request& req, Response& res) {
    auto token = AcceptedToken(req, ctx.accepts);
    if (!token) return Json(res, {{"error", "unauthorized"}}, 401);
    if (!ctx.csrf.Accepts(req, *token)) {
      return Json(res, {{"error", std::string("missing or wrong ") + kCsrfHeader + " header"}},
                  403);
    }
    handler(req, res, ctx.ClientFor(*token));
  };
}

// A file to save: `body` as JSON, named `filename`.
void Download(Response& res, const std::string& body, const std::string& filename) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  res.set_content(body, "application/json");
}

// Running jobs whose waiting stacks the cluster page lists: the newest first, at most this many.
constexpr size_t kWaitingJobsShown = 50;

void ClusterStatus(Response& res, Client& client) {
  std::string version;
  auto workers = client.ListWorkers(&version);
  if (!workers.ok()) return JsonError(res, workers.status());
  auto tenants = client.ListTenants();
  if (!tenants.ok()) return JsonError(res, tenants.status());
  auto jobs = client.ListJobs();
  if (!jobs.ok()) return JsonError(res, jobs.status());
  std::vector<WaitingStack> waiting;
  size_t looked = 0;
  for (auto it = jobs->rbegin(); it != jobs->rend() && looked < kWaitingJobsShown; ++it) {
    if (it->state() != "running") continue;
    ++looked;
    auto job = client.GetJob(it->job_id(), {.results = false});  // its stacks' waiting reasons
    if (!job.ok()) continue;                                     // ended and removed in between
    for (auto& w : WaitingStacks(*job)) waiting.push_back(std::move(w));
  }
  Json(res, ClusterJson(*workers, version, *tenants, waiting));
}

}  // namespace

std::shared_ptr<Client> RouteContext::ClientFor(const std::string& token) const {
  return std::make_shared<Client>(channel, "this coordinator", token);
}

void AddRoutes(httplib::Server& server, RouteContext& ctx) {
  server.set_default_headers({
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy", "default-src 'self'; img-src 'self' data:"},
  });
  // Static files: not secret (the login page needs them), everything else is behind the token.
  for (const WebAsset& asset : EmbeddedAssets()) {
    if (asset.path.ends_with(".html")) continue;
    server.Get(std::string(asset.path), [path = std::string(asset.path)](
                                            const Request&, Response& res) { Serve(res, path); });
  }
  server.Get("/login", [](const Request&, Response& res) { Serve(res, "/login.html"); });
  server.Post("/login", [&ctx](const Request& req, Response& res) {
    HandleLogin(req, res, ctx.accepts, /*secure=*/false);
  });
  server.Post("/logout", [](const Request&, Response& res) { HandleLogout(res, false); });
  server.Get("/", Page(ctx));
  server.Get("/jobs/[^/]+", Page(ctx));
  server.Get("/cluster", Page(ctx));

  // What the page may do for this session: the CSRF token its actions carry. Every credential
  // that logs in is a client's (the coordinator's authorizer grants the web view to no other
  // role), so every session may act, on the jobs its credential may see.
  server.Get("/api/session", [&ctx](const Request& req, Response& res) {
    auto token = AcceptedToken(req, ctx.accepts);
    if (!token) return Json(res, {{"error", "unauthorized"}}, 401);
    Json(res, {{"csrf", ctx.csrf.TokenFor(*token)}, {"actions", true}});
  });
  server.Get("/api/cluster", Api(ctx, [](const Request&, Response& res, ClientPtr client) {
               ClusterStatus(res, *client);
             }));
  server.Post("/api/jobs/([^/]+)/cancel",
              Action(ctx, [](const Request& req, Response& res, ClientPtr client) {
                auto state = client->Cancel(req.matches[1]);
                if (!state.ok()) return JsonError(res, state.status());
                Json(res, {{"state", *state}});
              }));
  server.Get("/api/jobs/([^/]+)/trace",
             Api(ctx, [](const Request& req, Response& res, ClientPtr client) {
               auto trace = client->GetTrace(req.matches[1]);
               if (!trace.ok()) return JsonError(res, trace.status());
               Download(res, *trace, std::string(req.matches[1]) + ".trace.json");
             }));
  server.Get("/api/jobs/([^/]+)/result",
             Api(ctx, [](const Request& req, Response& res, ClientPtr client) {
               auto job = client->GetJob(req.matches[1]);
               if (!job.ok()) return JsonError(res, job.status());
               if (job->state() == "running" || job->result_json().empty()) {
                 return Json(res, {{"error", "job " + job->job_id() + " has not ended"}}, 409);
               }
               Download(res, job->result_json(), job->job_id() + ".result.json");
             }));

  server.Get("/api/jobs", Api(ctx, [](const Request&, Response& res, ClientPtr client) {
               auto jobs = client->ListJobs();
               if (!jobs.ok()) return JsonError(res, jobs.status());
               Json(res, JobListJson(*jobs));
             }));
  server.Get("/api/jobs/events", Api(ctx, [&ctx](const Request&, Response& res, ClientPtr client) {
               StreamJobList(ctx, std::move(client), res);
             }));
  server.Get("/api/workers", Api(ctx, [](const Request&, Response& res, ClientPtr client) {
               auto workers = client->ListWorkers();
               if (!workers.ok()) return JsonError(res, workers.status());
               Json(res, WorkerListJson(*workers));
             }));
  server.Get("/api/jobs/([^/]+)", Api(ctx, [](const Request& req, Response& res, ClientPtr client) {
               auto job = client->GetJob(req.matches[1], {.graph = true});
               if (!job.ok()) return JsonError(res, job.status());
               Json(res, JobDetailJson(*job));
             }));
  server.Get("/api/jobs/([^/]+)/events",
             Api(ctx, [&ctx](const Request& req, Response& res, ClientPtr client) {
               StreamJobEvents(ctx, std::move(client), req.matches[1], req, res);
             }));
  server.Get("/api/jobs/([^/]+)/cards/([^/]+)/log",
             Api(ctx, [&ctx](const Request& req, Response& res, ClientPtr client) {
               StreamCardLog(ctx, std::move(client), req.matches[1], req.matches[2], res);
             }));
  server.set_error_handler([](const Request& req, Response& res) {
    if (!res.body.empty()) return;
    if (req.path.rfind("/api/", 0) == 0) {
      Json(res, {{"error", "not found"}}, res.status);
    } else {
      res.set_content("not found\n", "text/plain");
    }
  });
}

}  // namespace hollerith::web
