// Collects one output stream of a card: the first `limit` bytes in memory; once the stream grows
// past that, the whole stream (from its first byte) goes to a spill file under
// <workspace>/.hollerith/ instead, and only the in-memory prefix is kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace hollerith {

struct CapturedStream {
  std::string text;        // the first `capture_limit` bytes
  bool truncated = false;  // more was written than kept in memory
  std::string spill_path;  // when truncated: the full stream, on disk in the workspace
  size_t total_bytes = 0;
};

class OutputCapture {
 public:
  // `workspace` and `card_id` must outlive the capture (they are only used if it spills). The spill
  // file is named <card_id>.<seq>.<suffix>, with seq bumped past existing files.
  OutputCapture(size_t limit, const std::filesystem::path& workspace, const std::string& card_id,
                uint64_t seq, const char* suffix);
  ~OutputCapture();
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  void Append(std::string_view chunk);
  // Bytes captured so far, and up to `max` of them from offset `from` (from memory or the spill
  // file); fewer when the spill file could not be written.
  size_t total_bytes() const { return captured_.total_bytes; }
  std::string Read(size_t from, size_t max) const;
  // Closes the spill file, if any, and hands over what was captured.
  CapturedStream Finish();

 private:
  void StartSpill();
  void WriteSpill(std::string_view data);
  void CloseSpill();

  size_t limit_;
  const std::filesystem::path& workspace_;
  const std::string& card_id_;
  uint64_t seq_;
  const char* suffix_;
  CapturedStream captured_;
  int spill_fd_ = -1;
};

}  // namespace hollerith
