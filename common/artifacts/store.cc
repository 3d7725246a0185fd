#include "common/artifacts/store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <system_error>
#include <vector>

#include "common/base/check.h"
#include "common/base/hex.h"

namespace hollerith {

namespace {

namespace fs = std::filesystem;

constexpr size_t kBufferSize = 64 * 1024;

// Streaming sha256 over OpenSSL's EVP interface.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    // OpenSSL's sha256 fails only when memory does: no caller could do better than stop.
    HOLLERITH_CHECK(ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1,
                    "OpenSSL cannot initialise sha256");
  }
  void Update(const void* data, size_t n) {
    HOLLERITH_CHECK(EVP_DigestUpdate(ctx_.get(), data, n) == 1, "OpenSSL sha256 update failed");
  }
  std::string HexDigest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HOLLERITH_CHECK(EVP_DigestFinal_ex(ctx_.get(), md, &len) == 1, "OpenSSL sha256 final failed");
    return HexEncode(md, len);
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Adopt(int fd) {
    Reset();
    fd_ = fd;
  }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // close(2) can report deferred write errors; callers that wrote must check it.
  int Close() {
    int rc = fd_ >= 0 ? ::close(fd_) : 0;
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool IsValidDigest(const std::string& digest) {
  if (digest.size() != 64) return false;
  for (char c : digest) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status InvalidDigest(const std::string& digest) {
  std::string shown = digest.size() > 80 ? digest.substr(0, 80) + "..." : digest;
  return Status::Error("invalid artifact digest '" + shown + "' (want 64 lower-case hex digits)");
}

Status WriteAll(int fd, const char* data, size_t n, const fs::path& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::Error("cannot write " + path.string() + ": " + ErrnoText(errno));
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

// Copies `from` into `to`, hashing every byte on the way; returns the digest of what was written.
Result<std::string> CopyAndHash(int from, const fs::path& from_path, int to,
                                const fs::path& to_path) {
  Sha256 sha;
  std::vector<char> buffer(kBufferSize);
  for (;;) {
    ssize_t n = ::read(from, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error("cannot read " + from_path.string() + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    sha.Update(buffer.data(), static_cast<size_t>(n));
    if (Status s = WriteAll(to, buffer.data(), static_cast<size_t>(n), to_path); !s.ok()) return s;
  }
  return sha.HexDigest();
}

// A uniquely named temporary file next to `final_path` (same directory, so rename is atomic).
struct TempFile {
  fs::path path;
  Fd fd;
  bool keep = false;
  ~TempFile() {
    fd.Reset();
    if (!path.empty() && !keep) ::unlink(path.c_str());
  }
};

Status OpenTemp(const fs::path& final_path, TempFile& temp) {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  if (!final_path.parent_path().empty()) fs::create_directories(final_path.parent_path(), ec);
  if (ec) {
    return Status::Error("cannot create directory " + final_path.parent_path().string() + ": " +
                         ec.message());
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate =
        final_path.parent_path() / ("." + final_path.filename().string() + ".tmp." +
                                    std::to_string(::getpid()) + "." + std::to_string(counter++));
    int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      temp.path = candidate;
      temp.fd.Adopt(fd);
      return Status::Ok();
    }
    if (errno != EEXIST) {
      return Status::Error("cannot create " + candidate.string() + ": " + ErrnoText(errno));
    }
  }
  return Status::Error("cannot create a temporary file next to " + final_path.string());
}

// Flushes and closes the temp file and renames it over `final_path`.
Status Commit(TempFile& temp, const fs::path& final_path) {
  if (::fdatasync(temp.fd.get()) != 0 || temp.fd.Close() != 0) {
    return Status::Error("cannot write " + temp.path.string() + ": " + ErrnoText(errno));
  }
  if (::rename(temp.path.c_str(), final_path.c_str()) != 0) {
    return Status::Error("cannot rename " + temp.path.string() + " to " + final_path.string() +
                         ": " + ErrnoText(errno));
  }
  temp.keep = true;
  return Status::Ok();
}

}  // namespace

Result<std::string> Sha256File(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Error("cannot open " + path.string() + ": " + ErrnoText(errno));
  Sha256 sha;
  std::vector<char> buffer(kBufferSize);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error("cannot read " + path.string() + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    sha.Update(buffer.data(), static_cast<size_t>(n));
  }
  return sha.HexDigest();
}

std::string Sha256Hex(std::string_view data) {
  const Sha256Digest digest = Sha256Of(data);
  return HexEncode(digest.data(), digest.size());
}

Sha256Digest Sha256Of(std::string_view data) {
  // Fetched once: EVP_sha256() in EVP_DigestInit_ex looks the algorithm up again every time.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Context context;
  Sha256Digest digest{};
  unsigned int len = 0;
  // OpenSSL's sha256 fails only when memory does: no caller could do better than stop.
  HOLLERITH_CHECK(md != nullptr && context.ctx != nullptr &&
                      EVP_DigestInit_ex2(context.ctx, md, nullptr) == 1 &&
                      EVP_DigestUpdate(context.ctx, data.data(), data.size()) == 1 &&
                      EVP_DigestFinal_ex(context.ctx, digest.data(), &len) == 1 &&
                      len == digest.size(),
                  "OpenSSL sha256 failed");
  return digest;
}

ArtifactStore::ArtifactStore(fs::path root) : root_(std::move(root)) {}

fs::path ArtifactStore::PathOf(const std::string& digest) const {
  if (!IsValidDigest(digest)) return {};
  return root_ / digest.substr(0, 2) / digest;
}

bool ArtifactStore::HasLocally(const std::string& digest) const {
  if (!IsValidDigest(digest)) return false;
  struct stat st;
  return ::stat(PathOf(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ArtifactStore::Has(const std::string& digest) const {
  return HasLocally(digest) || (replica_ != nullptr && FetchFromReplica(digest));
}

Status ArtifactStore::Published(const std::string& digest) {
  if (replica_ == nullptr) return Status::Ok();
  Status s = replica_->Save(digest, PathOf(digest));
  if (!s.ok()) {
    // Not published until both have it: a later upload tries again.
    std::error_code ec;
    fs::remove(PathOf(digest), ec);
  }
  return s;
}

bool ArtifactStore::FetchFromReplica(const std::string& digest) const {
  if (!IsValidDigest(digest)) return false;
  const fs::path final_path = PathOf(digest);
  std::error_code ec;
  fs::create_directories(final_path.parent_path(), ec);
  static std::atomic<uint64_t> fetches{0};
  const fs::path temp =
      final_path.parent_path() / (".fetch-" + digest + "-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(fetches.fetch_add(1)));
  Status loaded = replica_->Load(digest, temp);
  Result<std::string> actual = loaded.ok() ? Sha256File(temp) : Result<std::string>(loaded);
  if (!actual.ok() || *actual != digest || ::rename(temp.c_str(), final_path.c_str()) != 0) {
    fs::remove(temp, ec);
    return false;
  }
  return true;
}

Result<std::string> ArtifactStore::Put(const fs::path& file) {
  // Hash first so that content already stored costs no write.
  Result<std::string> digest = Sha256File(file);
  if (!digest.ok()) return digest;
  if (HasLocally(*digest)) return digest;

  Fd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Status::Error("cannot open " + file.string() + ": " + ErrnoText(errno));
  TempFile temp;
  if (Status s = OpenTemp(PathOf(*digest), temp); !s.ok()) return s;
  Result<std::string> copied = CopyAndHash(in.get(), file, temp.fd.get(), temp.path);
  if (!copied.ok()) return copied;
  // If the file changed between hashing and copying, what we copied is what we store.
  if (*copied != *digest && HasLocally(*copied)) return copied;
  fs::path final_path = PathOf(*copied);
  if (*copied != *digest) {
    std::error_code ec;
    fs::create_directories(final_path.parent_path(), ec);  // Commit reports a failure
  }
  if (Status s = Commit(temp, final_path); !s.ok()) return s;
  if (Status s = Published(*copied); !s.ok()) return s;
  return copied;
}

Status ArtifactStore::PutVerified(std::string_view content, const std::string& expected_digest) {
  if (!IsValidDigest(expected_digest)) return InvalidDigest(expected_digest);
  ArtifactUpload upload(*this, content.size());
  if (Status s = upload.Add(expected_digest, content); !s.ok()) return s;
  return upload.Finish().status();
}

Status ArtifactStore::Materialize(const std::string& digest, const fs::path& dest) const {
  if (!IsValidDigest(digest)) return InvalidDigest(digest);
  if (replica_ != nullptr) Has(digest);  // fetched if only the replica has it
  fs::path blob = PathOf(digest);
  Fd in(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) {
    if (errno == ENOENT) return Status::Error("artifact " + digest + " not found in store");
    return Status::Error("cannot open " + blob.string() + ": " + ErrnoText(errno));
  }
  // Copy (never link: consumers may modify their files) into a temporary next to dest, so dest
  // only ever appears complete and verified.
  TempFile temp;
  if (Status s = OpenTemp(dest, temp); !s.ok()) return s;
  Result<std::string> copied = CopyAndHash(in.get(), blob, temp.fd.get(), temp.path);
  if (!copied.ok()) return copied.status();
  if (*copied != digest) {
    return Status::Error("artifact " + digest + " is corrupt (content hashes to " + *copied + ")");
  }
  if (temp.fd.Close() != 0) {
    return Status::Error("cannot write " + temp.path.string() + ": " + ErrnoText(errno));
  }
  if (::rename(temp.path.c_str(), dest.c_str()) != 0) {
    return Status::Error("cannot create " + dest.string() + ": " + ErrnoText(errno));
  }
  temp.keep = true;
  return Status::Ok();
}

struct ArtifactUpload::State {
  Sha256 sha;
  TempFile temp;
};

ArtifactUpload::ArtifactUpload(ArtifactStore& store, uint64_t max_bytes)
    : store_(store), max_bytes_(max_bytes) {}

ArtifactUpload::~ArtifactUpload() = default;

Status ArtifactUpload::Add(std::string_view digest, std::string_view data) {
  if (!error_.ok()) return error_;
  auto fail = [&](Status s) {
    error_ = s;
    state_.reset();  // removes the temporary file
    return s;
  };
  const size_t chunk = ++chunks_;
  if (chunk == 1) {
    if (!IsValidDigest(std::string(digest))) {
      return fail(Status::InvalidArgument(
          "the first artifact chunk must carry a sha256 (64 lower-case hex digits)"));
    }
    digest_ = digest;
    state_ = std::make_unique<State>();
    if (Status s = OpenTemp(store_.PathOf(digest_), state_->temp); !s.ok()) return fail(s);
  } else if (!digest.empty() && digest != digest_) {
    return fail(Status::InvalidArgument("artifact chunk " + std::to_string(chunk) +
                                        " names another sha256 than the first"));
  }
  if (data.size() > max_bytes_ - bytes_) {
    return fail(Status::InvalidArgument("artifact larger than the limit of " +
                                        std::to_string(max_bytes_) + " bytes"));
  }
  bytes_ += data.size();
  state_->sha.Update(data.data(), data.size());
  return WriteAll(state_->temp.fd.get(), data.data(), data.size(), state_->temp.path).ok()
             ? Status::Ok()
             : fail(Status::Error("cannot write the uploaded artifact " + digest_ + " to " +
                                  state_->temp.path.string()));
}

Result<std::string> ArtifactUpload::Finish() {
  if (!error_.ok()) return error_;
  if (chunks_ == 0) {
    error_ = Status::InvalidArgument("empty upload: no chunk named the artifact's sha256");
    return error_;
  }
  const std::string actual = state_->sha.HexDigest();
  Status s = Status::Ok();
  if (actual != digest_) {
    s = Status::Error(StatusCode::kDataLoss, "artifact content does not match digest " + digest_ +
                                                 " (" + std::to_string(bytes_) +
                                                 " bytes hashing to " + actual + ")");
  } else if (!store_.HasLocally(digest_)) {
    s = Commit(state_->temp, store_.PathOf(digest_));
    if (s.ok()) s = store_.Published(digest_);
  }
  state_.reset();  // the temporary file is gone unless committed
  if (!s.ok()) {
    error_ = s;
    return s;
  }
  error_ = Status::FailedPrecondition("the upload of " + digest_ + " is already finished");
  return digest_;
}

}  // namespace hollerith
