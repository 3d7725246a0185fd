#include "common/spec/workspace_path.h"

namespace hollerith {

const char* WorkspacePathProblem(std::string_view path) {
  if (path.empty()) return "is empty";
  if (path.front() == '/') return "must be relative to the workspace";
  if (path.size() > kMaxWorkspacePath) return "is too long";
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return "has a control character";
  }
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view part = path.substr(start, slash - start);
    if (part.empty()) return "has an empty component ('//' or a trailing '/')";
    if (part == ".") return "has a '.' component";
    if (part == "..") return "must not contain '..'";
    if (part.size() > kMaxPathComponent) return "has a component longer than 255 bytes";
    if (slash == std::string_view::npos) return nullptr;
    start = slash + 1;
  }
}

}  // namespace hollerith
