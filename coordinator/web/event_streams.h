// The web view's streamed responses, as server-sent events (text/event-stream):
//  - a job's events (a replay from its start, then live ones), each `id: N` (its index, so that a
//    reconnecting EventSource resumes with Last-Event-ID) and `data: {event JSON}`; at the job's
//    end `event: end`; if the stream fails `event: failed` with {"error"};
//  - the job list, `data: {"jobs": [...]}` whenever it changes (checked twice a second);
//  - a card's output, `event: stdout|stderr` with `data: "text"` (a JSON string), then `event: end`
//    (with {"error"} if the card has no output to give).
// Each stream calls the coordinator through `client`, with the token its request presented: one
// revoked on SIGHUP ends it (`event: failed`).
// Every stream sends a comment line when idle, which is how a closed tab is noticed, and ends
// when the server stops.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "coordinator/web/web_routes.h"

namespace hollerith::web {

void StreamJobEvents(RouteContext& ctx, std::shared_ptr<Client> client, const std::string& job,
                     const httplib::Request& req, httplib::Response& res);
void StreamJobList(RouteContext& ctx, std::shared_ptr<Client> client, httplib::Response& res);
void StreamCardLog(RouteContext& ctx, std::shared_ptr<Client> client, const std::string& job,
                   const std::string& card, httplib::Response& res);

}  // namespace hollerith::web
