// `include:` at the top of a spec: other spec files whose `templates:` and `stacks:` join the
// including file's, read before anything else (expansion, schema), so that every later step sees
// one document. Paths are relative to the including file; an included file may include others
// (at most kMaxIncludeDepth deep, kMaxIncludedFiles in all, each file once) and may hold only
// `include`, `templates` and `stacks`. Every node keeps the file it came from (DocNode::file),
// so errors name the file, line and column the user wrote.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/spec/document.h"
#include "common/spec/parser.h"  // SpecFileReader

namespace hollerith {

inline constexpr int kMaxIncludeDepth = 16;
inline constexpr size_t kMaxIncludedFiles = 256;

// Reads the document of one file's text (YAML or JSON), throwing SpecError at file 0's marks.
using SpecDocumentReader = std::function<DocTree(std::string_view text)>;

bool HasIncludes(const DocTree& doc);

// `path` as written in `including`'s `include:`, relative to the directory of `including`,
// without "." components and with "dir/.." folded where it can be.
std::string IncludePath(const std::string& including, std::string_view path);

// The document with its includes merged in (file 0 is `doc`, named (*files)[0]): the including
// file's keys in order, `stacks` and `templates` holding the included files' entries after its
// own. `*files` gets the included files' paths as they are read (file k is (*files)[k], so an
// error thrown half-way still names its file). Throws SpecError: a file that cannot be read (at
// its `include:` entry), an include cycle (with its path), too deep or too many, a key an
// included file may not hold, a stack or template id two files define (naming both places), more
// bytes in all than a spec file may have.
DocTree MergeIncludes(const DocTree& doc, const SpecFileReader& read,
                      const SpecDocumentReader& parse, const SpecLimits& limits,
                      std::vector<std::string>* files);

}  // namespace hollerith
