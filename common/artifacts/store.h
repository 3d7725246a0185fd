// Family common/artifacts/: owns files published by cards (store, and ArtifactAccess: how a
// runner gets and puts them). May use: base, OpenSSL. Must not know jobs, the core or the runner.
//
// Content-addressed blob store on disk (sha256 hex names). Put copies a file in and returns its
// digest; Materialize copies a blob out to a destination path, verifying its digest on the way.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace hollerith {

// Lower-case hex sha256 of a file's content / of a buffer.
Result<std::string> Sha256File(const std::filesystem::path& path);
std::string Sha256Hex(std::string_view data);
// The raw sha256 of a small buffer, cheaply: OpenSSL's algorithm is fetched once and a context
// kept per thread (the result cache hashes several short texts per card).
using Sha256Digest = std::array<unsigned char, 32>;
Sha256Digest Sha256Of(std::string_view data);

class ArtifactStore;

// An artifact arriving in chunks (an upload to the coordinator), assembled straight into the store:
// each chunk is hashed and written to a temporary file as it comes, so memory stays at one chunk
// whatever the size. The first chunk names the sha256 the content claims; Finish publishes the
// file under it only if the content hashes to it, and nothing is left behind otherwise (also when
// the upload is abandoned: the destructor removes the temporary file).
class ArtifactUpload {
 public:
  ArtifactUpload(ArtifactStore& store, uint64_t max_bytes);
  ~ArtifactUpload();
  ArtifactUpload(const ArtifactUpload&) = delete;
  ArtifactUpload& operator=(const ArtifactUpload&) = delete;

  // The next chunk. `digest`: required on the first chunk (64 lower-case hex); on a later one
  // empty or the same. Errors: a bad or changed digest, more than max_bytes, a failed write.
  // After an error the upload is dead: every later call fails.
  Status Add(std::string_view digest, std::string_view data);
  // The sender is done: checks the content against the digest and publishes it; the digest.
  Result<std::string> Finish();
  uint64_t bytes() const { return bytes_; }

 private:
  struct State;
  ArtifactStore& store_;
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  size_t chunks_ = 0;
  std::string digest_;
  Status error_;
  std::unique_ptr<State> state_;  // the temporary file and the running hash
};

// A second home of the blobs, shared by the coordinators that take over from one another (the
// PostgreSQL store's: coordinator/postgres_artifacts.h). A blob published in the store is saved
// there before it counts as published; a blob the store lacks is looked up there.
class ArtifactReplica {
 public:
  virtual ~ArtifactReplica() = default;
  // Saves the blob at `blob` under `digest` (nothing if it has it already). Any thread.
  virtual Status Save(const std::string& digest, const std::filesystem::path& blob) = 0;
  // Writes the blob `digest` to `dest`; kNotFound if it has none. Any thread.
  virtual Status Load(const std::string& digest, const std::filesystem::path& dest) = 0;
};

class ArtifactStore {
 public:
  explicit ArtifactStore(std::filesystem::path root);
  const std::filesystem::path& root() const { return root_; }
  // Blobs are saved to and looked up in `replica` too (it must outlive the store).
  void SetReplica(ArtifactReplica* replica) { replica_ = replica; }

  Result<std::string> Put(const std::filesystem::path& file);
  // Stores a buffer whose digest the sender claims; fails if the content does not match.
  Status PutVerified(std::string_view content, const std::string& expected_digest);
  // True if the blob is here, or the replica had it (then it is here now).
  bool Has(const std::string& digest) const;
  std::filesystem::path PathOf(const std::string& digest) const;
  // Copies blob `digest` to `dest` (creating parent directories) and re-checks its digest, so a
  // corrupted blob is detected instead of silently used.
  Status Materialize(const std::string& digest, const std::filesystem::path& dest) const;

 private:
  friend class ArtifactUpload;
  // A blob was committed at PathOf(digest): saved to the replica, or taken back on failure.
  Status Published(const std::string& digest);
  // Copies the replica's blob in; false if it has none (or it fails).
  bool FetchFromReplica(const std::string& digest) const;
  bool HasLocally(const std::string& digest) const;

  std::filesystem::path root_;
  ArtifactReplica* replica_ = nullptr;
};

}  // namespace hollerith
