// Uploads a card's whole stdout or stderr (the spill file its capture wrote in the workspace)
// to the coordinator with UploadLog, after the card's finish was reported. Blocking: runs on the
// worker's housekeeping thread, which removes the stack's workspace only after it (FIFO).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "common/base/status.h"
#include "hollerith.grpc.pb.h"

namespace hollerith::worker {

// At most this much of one stream is uploaded (and kept by the coordinator); the rest is dropped.
inline constexpr size_t kMaxLogUploadBytes = size_t{64} << 20;

struct LogUploadHeader {
  std::string job_id;
  uint32_t stack = 0;
  uint32_t card = 0;
  uint32_t attempt = 0;
  uint32_t try_no = 0;
  bool err = false;
  uint64_t lamport = 0;
};

Status UploadLog(v1::Coordinator::Stub& stub, const std::string& token,
                 const LogUploadHeader& header, const std::filesystem::path& file);

}  // namespace hollerith::worker
