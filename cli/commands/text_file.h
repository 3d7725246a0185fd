// Whole-file reads and writes for the CLI, with errors that name the file.
#pragma once

#include <string>

#include "common/base/status.h"

namespace hollerith::cli {

Result<std::string> ReadTextFile(const std::string& path);
// Writes through a temporary file in the same directory and renames it into place, so readers
// never see half a file.
Status WriteTextFile(const std::string& path, const std::string& text);

}  // namespace hollerith::cli
