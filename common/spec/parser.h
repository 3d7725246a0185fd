// Family common/spec/: owns the job model (job.h) and turning spec text into it. May use: base.
// Must not know the scheduler core, the runner, the network or the clock. Exceptions (SpecError)
// are internal to the parser: ParseJobSpec returns a Result and lets none escape.
//
// Parses and validates a job spec written in YAML (JSON accepted: it is read by the same parser or
// a fast JSON path). Every error names its place as "file:line:col: message"; hostile input (binary
// garbage, deep nesting, huge strings) yields an error, never a crash.
//
// Text whose first non-blank character is '{' is read as strict JSON by a fast reader (a million
// cards in about a second; yaml-cpp needs several); other text by yaml-cpp's event parser. Both
// build the same document tree, checked by one schema reader (spec_schema.cc), so JSON and YAML
// specs of the same job parse equal. YAML aliases (*name) and multi-document files are rejected.
// A syntax error (malformed YAML or JSON, not text, too big or too deep) is reported alone. Schema
// errors (unknown keys, wrong types, bad ids and durations, duplicate ids, unknown references) are
// all reported at once, one "file:line:col: message" line each, sorted by position, joined by '\n':
// at most 50, then a line "and N more errors". The cycle check runs only on a spec without them.
// Cycles read in execution order: "dependency cycle: A.sum -> B.double -> A.fetch -> A.sum".
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/spec/job.h"
#include "common/spec/quantities.h"  // ParseDuration, for the spec's durations

namespace hollerith {

struct SpecLimits {
  size_t max_file_bytes = size_t{512} << 20;
  size_t max_string_bytes = size_t{1} << 20;
  int max_depth = 64;
  // Cards in a job that `matrix:` expands (a written-out job is bounded by the file size): the
  // product of a matrix times its stack's cards is checked against it before any is made.
  uint64_t max_cards = uint64_t{1} << 20;
};

// The text of a file a spec's `include:` names, by its path (include.h: relative to the including
// file, so relative to the current directory when the spec's own path is).
using SpecFileReader = std::function<Result<std::string>(const std::string& path)>;
// Reads included files from the disk (each at most limits.max_file_bytes).
SpecFileReader DiskSpecFiles(const SpecLimits& limits = {});

// `source_name` is what errors print as the file (e.g. the path given on the command line).
// `includes` reads what `include:` names; without it, a spec with `include:` is an error.
Result<JobSpec> ParseJobSpec(std::string_view text, const std::string& source_name,
                             const SpecLimits& limits = {},
                             const SpecFileReader* includes = nullptr);
// A spec file, its includes read from the disk.
Result<JobSpec> LoadJobSpecFile(const std::string& path, const SpecLimits& limits = {});
// The text of a spec file, refused if it is bigger than limits.max_file_bytes.
Result<std::string> ReadSpecFile(const std::string& path, const SpecLimits& limits = {});

// The spec with its templates applied and its matrix stacks written out (see expand.h), as spec
// text that parses to the same job: what `hollerith validate --expand` prints. Errors are
// ParseJobSpec's.
enum class SpecFormat { kYaml, kJson };
Result<std::string> ExpandJobSpec(std::string_view text, const std::string& source_name,
                                  SpecFormat format, const SpecLimits& limits = {},
                                  const SpecFileReader* includes = nullptr);
// What `hollerith submit` sends: the spec's text as it is, or, if it has `include:`, the spec
// checked whole (errors name the file they are in) and then its includes merged into one JSON
// document, not expanded: the coordinator never reads a client's files.
Result<std::string> MergeSpecIncludes(std::string_view text, const std::string& source_name,
                                      const SpecLimits& limits, const SpecFileReader& includes);

}  // namespace hollerith
