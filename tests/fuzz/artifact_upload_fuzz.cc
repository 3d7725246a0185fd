// libFuzzer target: the assembly of an uploaded artifact from its chunks (ArtifactUpload, what
// the coordinator's UploadArtifact stream feeds). Oracle: the upload succeeds exactly when the
// first chunk names a valid digest, no later chunk names another, the size stays within the
// limit and the content hashes to the digest; then the store holds exactly that content, and in
// every case no temporary file is left behind. Frames (frames.h): 1: a chunk's data with the
// digest of what the frames carry (the truth), 2: a chunk claiming the digest in its bytes,
// 3: a chunk of data without a digest.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/artifacts/store.h"
#include "tests/fuzz/frames.h"
#include "tests/fuzz/fuzz_root.h"

namespace fs = std::filesystem;

namespace {

void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "artifact upload: %s\n", what);
  std::abort();
}

bool ValidDigest(const std::string& d) {
  if (d.size() != 64) return false;
  for (char c : d) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hollerith;
  constexpr uint64_t kLimit = 4096;
  const auto frames = fuzz::ReadFrames(data, size);
  std::string content;  // what the chunks carry, and the digest each one claims
  std::vector<std::pair<std::string, std::string>> chunks;
  for (const auto& f : frames) {
    if (f.kind == 1 || f.kind == 3) chunks.push_back({f.kind == 1 ? "!" : "", f.bytes});
    if (f.kind == 2) chunks.push_back({f.bytes, ""});
    if (f.kind == 1 || f.kind == 3) content += f.bytes;
  }
  const std::string truth = Sha256Hex(content);
  for (auto& [digest, bytes] : chunks) {
    if (digest == "!") digest = truth;
  }

  ArtifactStore store(fuzz::Root() / "store");
  ArtifactUpload upload(store, kLimit);
  bool expect_ok = !chunks.empty() && ValidDigest(chunks[0].first) && content.size() <= kLimit;
  bool added = true;
  for (size_t i = 0; i < chunks.size() && added; ++i) {
    if (i > 0 && !chunks[i].first.empty() && chunks[i].first != chunks[0].first) {
      expect_ok = false;
    }
    added = upload.Add(chunks[i].first, chunks[i].second).ok();
  }
  auto digest = upload.Finish();
  if (expect_ok) expect_ok = chunks[0].first == truth;
  Require(digest.ok() == (expect_ok && added), "accepted exactly the uploads that are right");
  if (digest.ok()) {
    Require(*digest == truth && store.Has(truth), "published under its digest");
    std::ifstream in(store.PathOf(truth), std::ios::binary);
    std::stringstream got;
    got << in.rdbuf();
    Require(got.str() == content, "the stored content is what was sent");
  }
  size_t files = 0;
  if (fs::exists(fuzz::Root() / "store")) {
    for (const auto& e : fs::recursive_directory_iterator(fuzz::Root() / "store")) {
      files += e.is_regular_file();
    }
  }
  Require(files == (digest.ok() ? 1u : 0u), "no temporary file left behind");
  fs::remove_all(fuzz::Root() / "store");
  return 0;
}
