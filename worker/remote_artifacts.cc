#include "worker/remote_artifacts.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <asio/post.hpp>
#include <atomic>
#include <fstream>
#include <system_error>

#include "proto/rpc_auth.h"

namespace hollerith::worker {
namespace {

namespace fs = std::filesystem;

std::chrono::system_clock::time_point TransferDeadline() {
  return std::chrono::system_clock::now() + RemoteArtifacts::kTransferTimeout;
}

fs::path IncomingPath(const fs::path& root, const std::string& digest) {
  static std::atomic<uint64_t> counter{0};
  return root / ".incoming" /
         (digest + "." + std::to_string(::getpid()) + "." + std::to_string(counter++));
}

std::string TransferError(const grpc::Status& s) {
  return s.error_message().empty() ? "gRPC status " + std::to_string(s.error_code())
                                   : s.error_message();
}

}  // namespace

RemoteArtifacts::RemoteArtifacts(asio::io_context& io, LamportClock& clock, fs::path cache_dir,
                                 rpc::LeaderFollower& coordinators, std::string token,
                                 size_t threads)
    : io_(io),
      clock_(clock),
      cache_(std::move(cache_dir)),
      coordinators_(coordinators),
      token_(std::move(token)),
      pool_(threads == 0 ? 1 : threads) {}

RemoteArtifacts::~RemoteArtifacts() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (grpc::ClientContext* ctx : calls_) ctx->TryCancel();
  }
  wake_.notify_all();
  // Threads leave after the job they are running; queued jobs are destroyed unrun with the pool.
  pool_.stop();
  pool_.join();
}

bool RemoteArtifacts::Register(grpc::ClientContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return false;
  calls_.insert(ctx);
  return true;
}

void RemoteArtifacts::Unregister(grpc::ClientContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.erase(ctx);
}

bool RemoteArtifacts::WasUploaded(const std::string& digest) {
  std::lock_guard<std::mutex> lock(mu_);
  return uploaded_.count(digest) > 0;
}

void RemoteArtifacts::MarkUploaded(const std::string& digest) {
  std::lock_guard<std::mutex> lock(mu_);
  uploaded_.insert(digest);
}

void RemoteArtifacts::ForgetUploads() {
  std::lock_guard<std::mutex> lock(mu_);
  uploaded_.clear();
}

void RemoteArtifacts::Observed(bool upload, std::chrono::steady_clock::time_point began,
                               const std::string& digest) {
  if (!metrics_) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::error_code ec;
  const auto bytes = fs::file_size(cache_.PathOf(digest), ec);
  (upload ? metrics_->upload_seconds : metrics_->fetch_seconds)->Observe(seconds);
  if (!ec) {
    (upload ? metrics_->uploaded_bytes : metrics_->fetched_bytes)
        ->Increment(static_cast<double>(bytes));
  }
}

void RemoteArtifacts::set_unreachable_patience(std::chrono::milliseconds patience) {
  std::lock_guard<std::mutex> lock(mu_);
  patience_ = std::max(patience, std::chrono::milliseconds(0));
}

void RemoteArtifacts::StopWaiting() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stop_waiting_;
  }
  wake_.notify_all();
}

void RemoteArtifacts::set_retry_observer(std::function<void()> observer) {
  std::lock_guard<std::mutex> lock(mu_);
  retry_observer_ = std::move(observer);
}

Status RemoteArtifacts::WhileUnreachable(const std::function<Status(bool* unavailable)>& attempt) {
  constexpr std::chrono::milliseconds kFirstBackoff{100}, kMaxBackoff{1000};
  std::chrono::milliseconds patience;
  uint64_t stop_waiting = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    patience = patience_;
    stop_waiting = stop_waiting_;
  }
  const auto give_up = std::chrono::steady_clock::now() + patience;
  std::chrono::milliseconds backoff = kFirstBackoff;
  for (;;) {
    bool unavailable = false;
    Status s = attempt(&unavailable);
    if (s.ok() || !unavailable) return s;
    std::unique_lock<std::mutex> lock(mu_);
    auto stopped = [&] { return shutting_down_ || stop_waiting != stop_waiting_; };
    const auto now = std::chrono::steady_clock::now();
    if (stopped() || now >= give_up) return s;
    if (backoff == kFirstBackoff) {
      spdlog::info("{}; trying again for up to {} ms", s.message(), patience.count());
    }
    if (auto observer = retry_observer_) {
      lock.unlock();
      observer();
      lock.lock();
    }
    const auto wait = std::min<std::chrono::steady_clock::duration>(backoff, give_up - now);
    if (wake_.wait_for(lock, wait, stopped)) return s;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

// ---------------------------------------------------------------- publish

void RemoteArtifacts::Publish(const fs::path& file, std::function<void(Result<std::string>)> done) {
  const uint64_t lamport = clock_.now();
  asio::post(pool_, [this, file, lamport, done = std::move(done)]() mutable {
    Result<std::string> digest = cache_.Put(file);
    uint64_t remote_lamport = 0;
    if (digest.ok() && !WasUploaded(*digest)) {
      const auto began = std::chrono::steady_clock::now();
      Status s = WhileUnreachable([&](bool* unavailable) {
        return Upload(*digest, lamport, &remote_lamport, unavailable);
      });
      if (s.ok()) Observed(/*upload=*/true, began, *digest);
      if (s.ok()) {
        MarkUploaded(*digest);
      } else {
        digest = s;
      }
    }
    asio::post(io_, [this, remote_lamport, digest = std::move(digest), done = std::move(done)] {
      if (remote_lamport != 0) clock_.Receive(remote_lamport);
      done(digest);
    });
  });
}

Status RemoteArtifacts::Upload(const std::string& digest, uint64_t lamport,
                               uint64_t* remote_lamport, bool* unavailable) {
  const fs::path blob = cache_.PathOf(digest);
  std::ifstream in(blob, std::ios::binary);
  if (!in) return Status::Error("cannot open cached artifact " + blob.string());

  grpc::ClientContext ctx;
  rpc::AttachBearer(ctx, token_);
  ctx.set_deadline(TransferDeadline());
  if (!Register(&ctx)) return Status::Error("the worker is shutting down");
  v1::UploadArtifactResponse response;
  auto writer = coordinators_.stub().UploadArtifact(&ctx, &response);
  std::string buffer(kChunkBytes, '\0');
  v1::ArtifactChunk chunk;
  bool first = true;
  bool read_failed = false;
  for (;;) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (in.bad()) {
      read_failed = true;
      break;
    }
    if (n == 0 && !first) break;  // an empty blob still sends one chunk, carrying the digest
    chunk.Clear();
    if (first) {
      chunk.set_sha256(digest);
      chunk.set_lamport(lamport);
    }
    chunk.set_data(buffer.data(), n);
    first = false;
    if (!writer->Write(chunk)) break;  // the stream broke: Finish says why
    if (in.eof()) break;
  }
  if (read_failed) ctx.TryCancel();
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  Unregister(&ctx);
  if (read_failed) return Status::Error("cannot read cached artifact " + blob.string());
  if (!status.ok()) {
    *unavailable = status.error_code() == grpc::StatusCode::UNAVAILABLE;
    return Status::Error("cannot upload artifact " + digest +
                         " to the coordinator: " + TransferError(status));
  }
  if (response.sha256() != digest) {
    return Status::Error("the coordinator stored artifact " + digest + " as '" +
                         response.sha256().substr(0, 80) + "'");
  }
  *remote_lamport = response.lamport();
  return Status::Ok();
}

// ---------------------------------------------------------------- fetch

void RemoteArtifacts::Fetch(const std::string& digest, const fs::path& dest,
                            std::function<void(Status)> done) {
  asio::post(pool_, [this, digest, dest, done = std::move(done)]() mutable {
    Status status;
    if (MaterializeCached(digest, dest, &status)) {
      asio::post(io_, [status, done = std::move(done)] { done(status); });
      return;
    }
    asio::post(io_, [this, digest, dest, done = std::move(done)]() mutable {
      StartDownload(digest, Waiter{dest, std::move(done)});
    });
  });
}

bool RemoteArtifacts::MaterializeCached(const std::string& digest, const fs::path& dest,
                                        Status* status) {
  if (cache_.PathOf(digest).empty()) {
    *status = cache_.Materialize(digest, dest);  // explains the invalid digest
    return true;
  }
  if (!cache_.Has(digest)) return false;
  *status = cache_.Materialize(digest, dest);
  if (status->ok()) return true;
  // Tell a damaged cached copy (download again) from a destination we cannot write (fail).
  const fs::path blob = cache_.PathOf(digest);
  auto actual = Sha256File(blob);
  if (actual.ok() && *actual == digest) return true;
  spdlog::warn("cached artifact {} is damaged; fetching it again", digest);
  std::error_code ec;
  fs::remove(blob, ec);
  return false;
}

void RemoteArtifacts::StartDownload(const std::string& digest, Waiter waiter) {
  auto& waiters = downloads_[digest];
  waiters.push_back(std::move(waiter));
  if (waiters.size() > 1) return;  // a download of this blob is already under way
  const uint64_t lamport = clock_.now();
  asio::post(pool_, [this, digest, lamport] {
    uint64_t remote_lamport = 0;
    const auto began = std::chrono::steady_clock::now();
    const bool cached = cache_.Has(digest);
    Status status = WhileUnreachable(
        [&](bool* unavailable) { return Download(digest, lamport, &remote_lamport, unavailable); });
    if (status.ok() && !cached) Observed(/*upload=*/false, began, digest);
    asio::post(io_, [this, digest, remote_lamport, status] {
      if (remote_lamport != 0) clock_.Receive(remote_lamport);
      OnDownloaded(digest, status);
    });
  });
}

void RemoteArtifacts::OnDownloaded(const std::string& digest, Status status) {
  auto node = downloads_.extract(digest);
  if (node.empty()) return;
  for (Waiter& w : node.mapped()) {
    if (!status.ok()) {
      w.done(status);
      continue;
    }
    asio::post(pool_, [this, digest, w = std::move(w)]() mutable {
      Status s = cache_.Materialize(digest, w.dest);
      asio::post(io_, [s, done = std::move(w.done)] { done(s); });
    });
  }
}

Status RemoteArtifacts::Download(const std::string& digest, uint64_t lamport,
                                 uint64_t* remote_lamport, bool* unavailable) {
  if (cache_.Has(digest)) return Status::Ok();
  const fs::path temp = IncomingPath(cache_.root(), digest);
  std::error_code ec;
  fs::create_directories(temp.parent_path(), ec);
  if (ec) {
    return Status::Error("cannot create " + temp.parent_path().string() + ": " + ec.message());
  }
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Error("cannot create " + temp.string());

  grpc::ClientContext ctx;
  rpc::AttachBearer(ctx, token_);
  ctx.set_deadline(TransferDeadline());
  if (!Register(&ctx)) {
    fs::remove(temp, ec);
    return Status::Error("the worker is shutting down");
  }
  v1::FetchArtifactRequest request;
  request.set_sha256(digest);
  request.set_lamport(lamport);
  auto reader = coordinators_.stub().FetchArtifact(&ctx, request);
  v1::ArtifactChunk chunk;
  bool write_failed = false;
  while (reader->Read(&chunk)) {
    *remote_lamport = std::max(*remote_lamport, chunk.lamport());
    out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    if (!out) {
      write_failed = true;
      ctx.TryCancel();
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  Unregister(&ctx);
  out.close();
  if (write_failed || !out) {
    fs::remove(temp, ec);
    return Status::Error("cannot write " + temp.string() + " while fetching artifact " + digest);
  }
  if (!status.ok()) {
    fs::remove(temp, ec);
    *unavailable = status.error_code() == grpc::StatusCode::UNAVAILABLE;
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      return Status::Error("artifact " + digest +
                           " not found on the coordinator: " + TransferError(status));
    }
    return Status::Error("cannot fetch artifact " + digest +
                         " from the coordinator: " + TransferError(status));
  }
  auto actual = Sha256File(temp);
  if (!actual.ok()) {
    fs::remove(temp, ec);
    return actual.status();
  }
  if (*actual != digest) {
    fs::remove(temp, ec);
    return Status::Error("artifact " + digest +
                         " is corrupt (the coordinator sent content hashing to " + *actual + ")");
  }
  const fs::path blob = cache_.PathOf(digest);
  fs::create_directories(blob.parent_path(), ec);
  fs::rename(temp, blob, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temp, ec);
    return Status::Error("cannot store fetched artifact " + digest + " in " + blob.string() + ": " +
                         why);
  }
  return Status::Ok();
}

}  // namespace hollerith::worker
