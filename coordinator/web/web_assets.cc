#include "coordinator/web/web_assets.h"

namespace hollerith::web {

const WebAsset* FindAsset(std::string_view path) {
  for (const WebAsset& a : EmbeddedAssets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

std::string_view ContentTypeOf(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  if (path.ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

}  // namespace hollerith::web
