// What a path inside a card's workspace may look like (inputs, outputs, artifact names): checked
// by the spec's schema, by the wire decoder and again by the node before it touches the file, so a
// spec (or a coordinator) cannot name anything outside the workspace.
#pragma once

#include <string_view>

namespace hollerith {

inline constexpr size_t kMaxWorkspacePath = 4096;
inline constexpr size_t kMaxPathComponent = 255;

// Why `path` is not a clean workspace-relative path, or nullptr if it is one: not empty, not
// absolute, no '.', '..' or empty components, no control bytes (NUL included), within the
// lengths above. Clean paths compare equal exactly when they name the same file, which is what
// matching inputs to outputs relies on.
const char* WorkspacePathProblem(std::string_view path);

}  // namespace hollerith
