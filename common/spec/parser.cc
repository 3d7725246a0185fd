#include "common/spec/parser.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "common/base/hex.h"
#include "common/spec/cycles.h"
#include "common/spec/doc_writer.h"
#include "common/spec/document.h"
#include "common/spec/expand.h"
#include "common/spec/fanout.h"
#include "common/spec/include.h"
#include "common/spec/json.h"
#include "common/spec/schema.h"
#include "common/spec/yaml.h"

namespace hollerith {
namespace {

// At most this many schema errors are listed, in at most this many bytes; then "and N more
// errors". The byte cap keeps the message inside gRPC's 8 KiB metadata limit (a status message
// travels in a header): 50 errors quoting long ids would not fit, and the client would see
// RESOURCE_EXHAUSTED instead of the errors.
constexpr size_t kMaxErrorsShown = 50;
constexpr size_t kMaxErrorBytes = 7400;

// `files`: the spec's file, then its includes (SourceMark::file indexes it).
std::string FormatError(const std::vector<std::string>& files, SourceMark mark,
                        const std::string& message) {
  const size_t file = static_cast<size_t>(mark.file) < files.size() ? mark.file : 0;
  return files[file] + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column) + ": " +
         message;
}

// One line per error, by position, the last saying how many were left out.
std::string FormatErrors(const std::vector<std::string>& files, const SpecErrorList& errors) {
  std::string out;
  uint64_t listed = 0;
  for (const SpecErrorList::Entry& e : errors.Sorted()) {
    std::string line = FormatError(files, e.mark, e.message);
    if (listed > 0 && out.size() + 1 + line.size() > kMaxErrorBytes) break;
    if (!out.empty()) out += '\n';
    out += line;
    ++listed;
  }
  if (const uint64_t more = errors.count() - listed; more > 0) {
    out += "\nand " + std::to_string(more) + (more == 1 ? " more error" : " more errors");
  }
  return out;
}

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0 if it is malformed
// (overlong forms, surrogates and code points above U+10FFFF are malformed).
size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto continuation = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  const unsigned char b = byte(0);
  if (b >= 0xC2 && b <= 0xDF) return continuation(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    const unsigned char lo = b == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b == 0xED ? 0x9F : 0xBF;
    return continuation(1, lo, hi) && continuation(2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const unsigned char lo = b == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b == 0xF4 ? 0x8F : 0xBF;
    return continuation(1, lo, hi) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

// Rejects what is not text before any parser sees it: NUL and other control bytes, and bytes
// that are not UTF-8 (binary files, UTF-16).
void CheckIsText(std::string_view text) {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      ++i;
      continue;
    }
    const SourceMark mark{line, static_cast<int>(i - line_start) + 1};
    if (c == '\n') {
      ++line;
      line_start = ++i;
    } else if (c == '\t' || c == '\r') {
      ++i;
    } else if (c == 0) {
      throw SpecError(mark, "NUL byte: the spec must be UTF-8 text, not binary data");
    } else if (c < 0x80) {
      throw SpecError(mark, "control character " + QuoteForMessage(text.substr(i, 1)) +
                                ": the spec must be UTF-8 text");
    } else if (const size_t n = Utf8SequenceLength(text.substr(i))) {
      i += n;
    } else {
      throw SpecError(mark, "invalid UTF-8 byte 0x" + HexEncode(text.substr(i, 1)) +
                                ": the spec must be UTF-8 text");
    }
  }
}

bool LooksLikeJson(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

DocTree ReadDocument(std::string_view text, const SpecLimits& limits) {
  if (!LooksLikeJson(text)) return ReadYamlDocument(text, limits);
  try {
    return ReadJsonDocument(text, limits);
  } catch (const SpecSyntaxError&) {
    // Not JSON, but maybe a hand-written YAML flow mapping ({name: x, ...}); if YAML fails too,
    // the JSON error is the better explanation. Big files are generated JSON: report at once
    // rather than spend yaml-cpp's seconds on them.
    constexpr size_t kMaxYamlRetryBytes = size_t{1} << 20;
    if (text.size() > kMaxYamlRetryBytes) throw;
    try {
      return ReadYamlDocument(text, limits);
    } catch (const SpecError&) {
    }
    throw;
  }
}

// The document of a spec file's text with its includes merged in; `files` (the spec's name
// first) gets the names of the included files.
DocTree ReadWithIncludes(std::string_view text, std::vector<std::string>& files,
                         const SpecLimits& limits, const SpecFileReader* read) {
  if (text.size() > limits.max_file_bytes) {
    throw SpecError({1, 1}, "the spec is " + std::to_string(text.size()) +
                                " bytes, more than the limit of " +
                                std::to_string(limits.max_file_bytes));
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte order mark
  CheckIsText(text);
  DocTree doc = ReadDocument(text, limits);
  if (!HasIncludes(doc)) return doc;
  if (!read) {
    throw SpecError(doc.root().mark(),
                    "'include' needs the files it names, which are not at hand here (`hollerith "
                    "submit` sends a coordinator the spec with its includes merged in)");
  }
  return MergeIncludes(
      doc, *read,
      [&](std::string_view part) {
        if (part.starts_with("\xEF\xBB\xBF")) part.remove_prefix(3);
        CheckIsText(part);
        return ReadDocument(part, limits);
      },
      limits, &files);
}

// Reads, expands and checks a spec. The document the schema read (expanded, if there was
// anything to expand) goes to `*read` when asked for.
JobSpec ParseOrThrow(std::string_view text, std::vector<std::string>& files,
                     const SpecLimits& limits, const SpecFileReader* includes,
                     DocTree* read = nullptr) {
  DocTree doc = ReadWithIncludes(text, files, limits, includes);
  if (NeedsExpansion(doc)) doc = ExpandDocument(doc, limits, kMaxErrorsShown);
  JobSpec job = ReadJobSpec(doc, kMaxErrorsShown);
  job.source = files[0];
  job.included.assign(files.begin() + 1, files.end());
  const std::vector<CardRef> cycle = FindDependencyCycle(job);
  if (!cycle.empty()) {
    throw SpecError(job.card(cycle.front()).mark, "dependency cycle: " + CyclePath(job, cycle));
  }
  if (job.has_fanout) CheckFanOuts(job);
  if (read) *read = std::move(doc);
  return job;
}

// Runs `parse` with the spec's file names (the spec's own first) and turns what it throws into
// an error naming the place.
template <typename T, typename Parse>
Result<T> Catching(const std::string& source_name, const Parse& parse) {
  std::vector<std::string> files = {source_name};
  try {
    return parse(files);
  } catch (const SpecErrors& e) {
    return Status::Error(FormatErrors(files, e.list));
  } catch (const SpecError& e) {
    return Status::Error(FormatError(files, e.mark, e.what()));
  } catch (const std::bad_alloc&) {
    return Status::Error(FormatError(files, {1, 1}, "out of memory reading the spec"));
  } catch (const std::exception& e) {
    return Status::Error(FormatError(files, {1, 1}, std::string("error: ") + e.what()));
  }
}

}  // namespace

Result<JobSpec> ParseJobSpec(std::string_view text, const std::string& source_name,
                             const SpecLimits& limits, const SpecFileReader* includes) {
  return Catching<JobSpec>(source_name, [&](std::vector<std::string>& files) {
    return ParseOrThrow(text, files, limits, includes);
  });
}

Result<std::string> ExpandJobSpec(std::string_view text, const std::string& source_name,
                                  SpecFormat format, const SpecLimits& limits,
                                  const SpecFileReader* includes) {
  return Catching<std::string>(source_name, [&](std::vector<std::string>& files) {
    DocTree doc;
    ParseOrThrow(text, files, limits, includes, &doc);
    return format == SpecFormat::kJson ? WriteDocumentJson(doc) : WriteDocumentYaml(doc);
  });
}

Result<std::string> MergeSpecIncludes(std::string_view text, const std::string& source_name,
                                      const SpecLimits& limits, const SpecFileReader& includes) {
  // Most specs include nothing: those go as they are, unread (a million cards read in a second).
  if (text.find("include") == std::string_view::npos) return std::string(text);
  return Catching<std::string>(source_name, [&](std::vector<std::string>& files) {
    // Checked whole first, so that every error names the file the user wrote.
    ParseOrThrow(text, files, limits, &includes);
    files.resize(1);
    DocTree merged = ReadWithIncludes(text, files, limits, &includes);
    return files.size() == 1 ? std::string(text)
                             : WriteDocumentJson(merged, /*escape_substitutions=*/false);
  });
}

SpecFileReader DiskSpecFiles(const SpecLimits& limits) {
  return [limits](const std::string& path) { return ReadSpecFile(path, limits); };
}

Result<std::string> ReadSpecFile(const std::string& path, const SpecLimits& limits) {
  auto fail = [&](const std::string& reason) {
    return Status::Error("cannot read " + path + ": " + reason);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  std::string text;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    if (static_cast<uint64_t>(st.st_size) > limits.max_file_bytes) {
      ::close(fd);
      return fail("the file is " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                  std::to_string(limits.max_file_bytes));
    }
    text.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return fail(std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > limits.max_file_bytes)
      break;  // a pipe or growing file; ParseJobSpec says why
  }
  ::close(fd);
  return text;
}

Result<JobSpec> LoadJobSpecFile(const std::string& path, const SpecLimits& limits) {
  Result<std::string> text = ReadSpecFile(path, limits);
  if (!text.ok()) return text.status();
  const SpecFileReader includes = DiskSpecFiles(limits);
  return ParseJobSpec(*text, path, limits, &includes);
}

}  // namespace hollerith
