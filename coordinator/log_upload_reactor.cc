#include "coordinator/log_upload_reactor.h"

#include <spdlog/spdlog.h>

#include <random>
#include <system_error>

namespace hollerith::coordinator {

namespace fs = std::filesystem;

// The response stays empty: the log's place in the order is its card's report, not this upload.
LogUploadReactor::LogUploadReactor(Coordinator& coordinator, v1::UploadLogResponse* /*resp*/,
                                   prometheus::Counter* bytes_stored, rpc::TicketHolder ticket)
    : coordinator_(coordinator), bytes_stored_(bytes_stored), ticket_(std::move(ticket)) {
  StartRead(&piece_);
}

void LogUploadReactor::OnReadDone(bool ok) {
  if (!ok) {  // the worker sent everything
    End(have_header_ ? grpc::Status::OK
                     : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "empty log upload"));
    return;
  }
  if (!have_header_) {
    header_ = piece_;
    header_.clear_data();
    have_header_ = true;
    if (header_.job_id().empty() || header_.job_id().size() > 256) {
      End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a log upload needs a job id"));
      return;
    }
    const fs::path dir = coordinator_.LogUploadDir(header_.job_id());
    if (dir.empty()) {
      End(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                       "this coordinator keeps no full card output"));
      return;
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    temp_ = dir / (".upload-" + std::to_string(std::random_device{}()) + "-" +
                   std::to_string(reinterpret_cast<uintptr_t>(this)));
    file_ = ec ? nullptr : std::fopen(temp_.c_str(), "wb");
    if (!file_) {
      End(grpc::Status(grpc::StatusCode::INTERNAL, "cannot write " + temp_.string()));
      return;
    }
  }
  if (bytes_ + piece_.data().size() > kMaxBytes) {
    End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "card output upload over 64 MiB"));
    return;
  }
  if (std::fwrite(piece_.data().data(), 1, piece_.data().size(), file_) != piece_.data().size()) {
    End(grpc::Status(grpc::StatusCode::INTERNAL, "cannot write " + temp_.string()));
    return;
  }
  bytes_ += piece_.data().size();
  StartRead(&piece_);
}

void LogUploadReactor::End(const grpc::Status& status) {
  bool complete = status.ok() && !cancelled_;
  if (file_) {
    complete = std::fclose(file_) == 0 && complete;
    file_ = nullptr;
  }
  if (!temp_.empty()) {
    if (complete && bytes_stored_) bytes_stored_->Increment(static_cast<double>(bytes_));
    coordinator_.Post([&c = coordinator_, header = header_, temp = temp_, complete] {
      c.LogUploaded(header, temp, complete);
    });
  } else if (have_header_) {  // nothing written, but a wait may hang on it: settle it
    coordinator_.Post([&c = coordinator_, header = header_] { c.LogUploaded(header, {}, false); });
  }
  if (!status.ok()) spdlog::warn("card output upload refused: {}", status.error_message());
  Finish(status);
}

void LogUploadReactor::OnDone() {
  if (file_) std::fclose(file_);
  delete this;
}

}  // namespace hollerith::coordinator
