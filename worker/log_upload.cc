#include "worker/log_upload.h"

#include <algorithm>
#include <chrono>
#include <fstream>

#include "proto/rpc_auth.h"

namespace hollerith::worker {

Status UploadLog(v1::Coordinator::Stub& stub, const std::string& token,
                 const LogUploadHeader& header, const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Error("cannot open " + file.string());
  grpc::ClientContext ctx;
  rpc::AttachBearer(ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  v1::UploadLogResponse response;
  auto writer = stub.UploadLog(&ctx, &response);
  v1::LogUpload piece;
  piece.set_job_id(header.job_id);
  piece.mutable_card()->set_stack(header.stack);
  piece.mutable_card()->set_card(header.card);
  piece.set_attempt(header.attempt);
  piece.set_try_no(header.try_no);
  piece.set_stderr(header.err);
  piece.set_lamport(header.lamport);
  std::string buffer(size_t{1} << 20, '\0');
  size_t sent = 0;
  bool read_failed = false;
  while (sent < kMaxLogUploadBytes) {
    const size_t want = std::min(buffer.size(), kMaxLogUploadBytes - sent);
    in.read(buffer.data(), static_cast<std::streamsize>(want));
    const auto n = static_cast<size_t>(in.gcount());
    if (in.bad()) {
      read_failed = true;
      break;
    }
    if (n == 0 && sent > 0) break;
    piece.set_data(buffer.data(), n);
    if (!writer->Write(piece)) break;  // the stream broke: Finish says why
    piece.clear_card();                // the header rides on the first piece only
    piece.clear_job_id();
    sent += n;
    if (in.eof()) break;
  }
  if (read_failed) ctx.TryCancel();
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (read_failed) return Status::Error("cannot read " + file.string());
  if (!status.ok()) {
    return Status::Error("cannot upload the output of a card: " + status.error_message());
  }
  return Status::Ok();
}

}  // namespace hollerith::worker
