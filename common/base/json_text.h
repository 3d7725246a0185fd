// The JSON text of a document whose strings may hold bytes that are not UTF-8 (card output, ids
// and names a peer sent): those bytes become U+FFFD instead of an exception (which, uncaught on
// the coordinator's loop, would end the daemon; found by fuzz_worker_message).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hollerith {

template <typename Json>
std::string JsonText(const Json& doc, int indent = -1) {
  return doc.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace hollerith
