#include "common/runner/output_capture.h"

#include "common/base/status.h"
#include "common/runner/confined_path.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace hollerith {

namespace {

// Card ids come from user specs; keep the file name inside .hollerith/ whatever they contain.
std::string SafeFileStem(const std::string& id) {
  std::string stem = id.empty() ? std::string("card") : id;
  for (char& c : stem) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) c = '_';
  }
  if (stem[0] == '.') stem[0] = '_';
  return stem;
}

}  // namespace

OutputCapture::OutputCapture(size_t limit, const std::filesystem::path& workspace,
                             const std::string& card_id, uint64_t seq, const char* suffix)
    : limit_(limit), workspace_(workspace), card_id_(card_id), seq_(seq), suffix_(suffix) {}

OutputCapture::~OutputCapture() { CloseSpill(); }

void OutputCapture::Append(std::string_view chunk) {
  captured_.total_bytes += chunk.size();
  if (!captured_.truncated) {
    size_t room = limit_ - captured_.text.size();
    if (chunk.size() <= room) {
      captured_.text.append(chunk);
      return;
    }
    captured_.text.append(chunk.substr(0, room));
    captured_.truncated = true;
    StartSpill();
    chunk.remove_prefix(room);
  }
  WriteSpill(chunk);
}

void OutputCapture::StartSpill() {
  // The card may have planted links in its workspace: the spill file is made beneath it without
  // following any (a link named .hollerith must not make the node write elsewhere).
  Result<UniqueFd> workspace = OpenDirectory(workspace_);
  if (workspace.ok() && ::mkdirat(workspace->get(), ".hollerith", 0755) != 0 && errno != EEXIST) {
    workspace = Status::Error(ErrnoText(errno));
  }
  if (!workspace.ok()) {
    spdlog::warn("card {}: cannot create {}/.hollerith: {}; {} beyond {} bytes is dropped",
                 card_id_, workspace_.string(), workspace.message(), suffix_, limit_);
    return;
  }
  std::string stem = SafeFileStem(card_id_);
  for (int attempt = 0; attempt < 1000; ++attempt, ++seq_) {
    const std::string name =
        ".hollerith/" + stem + "." + std::to_string(seq_) + "." + std::string(suffix_);
    Result<UniqueFd> file = OpenBeneath(workspace->get(), name, O_RDWR | O_CREAT | O_EXCL, 0644);
    if (file.ok()) {
      spill_fd_ = file->release();
      captured_.spill_path = (workspace_ / name).string();
      WriteSpill(captured_.text);
      return;
    }
    if (errno != EEXIST) {
      spdlog::warn("card {}: cannot create spill file: {}; {} beyond {} bytes is dropped", card_id_,
                   file.message(), suffix_, limit_);
      return;
    }
  }
}

void OutputCapture::WriteSpill(std::string_view data) {
  while (spill_fd_ >= 0 && !data.empty()) {
    ssize_t n = ::write(spill_fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::warn("card {}: writing spill file {} failed: {}", card_id_, captured_.spill_path,
                   ErrnoText(errno));
      CloseSpill();
      ::unlink(captured_.spill_path.c_str());
      captured_.spill_path.clear();
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void OutputCapture::CloseSpill() {
  if (spill_fd_ >= 0) ::close(spill_fd_);
  spill_fd_ = -1;
}

std::string OutputCapture::Read(size_t from, size_t max) const {
  std::string out;
  if (spill_fd_ < 0) {  // everything is in memory (or only the kept prefix survived)
    if (from < captured_.text.size()) out = captured_.text.substr(from, max);
    return out;
  }
  out.resize(std::min(max, captured_.total_bytes > from ? captured_.total_bytes - from : 0));
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n =
        ::pread(spill_fd_, out.data() + got, out.size() - got, static_cast<off_t>(from + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

CapturedStream OutputCapture::Finish() {
  CloseSpill();
  return std::move(captured_);
}

}  // namespace hollerith
