// The web view's static files (assets/), compiled into the binary: the UI works on an air-gapped
// cluster and nothing is fetched from elsewhere.
#pragma once

#include <span>
#include <string_view>

namespace hollerith::web {

struct WebAsset {
  std::string_view path;  // "/app.js"
  std::string_view body;
};

// Every file of assets/, generated at build time (embed_assets.cmake).
std::span<const WebAsset> EmbeddedAssets();
// The asset served at `path`, or nullptr.
const WebAsset* FindAsset(std::string_view path);
// The Content-Type for a file name by its extension (text/html; charset=utf-8, ...).
std::string_view ContentTypeOf(std::string_view path);

}  // namespace hollerith::web
