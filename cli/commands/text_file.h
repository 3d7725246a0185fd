// Whole-file reads and writes for the CLI, with errors that name the file.
#pragma once

#include <string>

#include "common/base/status.h"

namespace hollerith::cli {

Result<std::string> ReadTextFile(const std::string& path);
// A spec file as a coordinator is sent it: its text, or, with `include:`, the spec checked whole
// here and its includes (read from this machine) merged into one document (MergeSpecIncludes).
Result<std::string> ReadSpecToSubmit(const std::string& path);
// Writes through a temporary file in the same directory and renames it into place, so readers
// never see half a file.
Status WriteTextFile(const std::string& path, const std::string& text);

}  // namespace hollerith::cli
