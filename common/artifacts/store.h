// Family common/artifacts/: owns files published by cards (store, and ArtifactAccess: how a
// runner gets and puts them). May use: base, OpenSSL. Must not know jobs, the core or the runner.
//
// Content-addressed blob store on disk (sha256 hex names). Put copies a file in and returns its
// digest; Materialize copies a blob out to a destination path, verifying its digest on the way.
#pragma once

#include <filesystem>
#include <string>

#include "common/base/status.h"

namespace hollerith {

// Lower-case hex sha256 of a file's content / of a buffer.
Result<std::string> Sha256File(const std::filesystem::path& path);
std::string Sha256Hex(std::string_view data);

class ArtifactStore {
 public:
  explicit ArtifactStore(std::filesystem::path root);
  const std::filesystem::path& root() const { return root_; }

  Result<std::string> Put(const std::filesystem::path& file);
  // Stores a buffer whose digest the sender claims; fails if the content does not match.
  Status PutVerified(std::string_view content, const std::string& expected_digest);
  bool Has(const std::string& digest) const;
  std::filesystem::path PathOf(const std::string& digest) const;
  // Copies blob `digest` to `dest` (creating parent directories) and re-checks its digest, so a
  // corrupted blob is detected instead of silently used.
  Status Materialize(const std::string& digest, const std::filesystem::path& dest) const;

 private:
  std::filesystem::path root_;
};

}  // namespace hollerith
