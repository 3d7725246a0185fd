#include "common/artifacts/store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace hollerith {
namespace {

namespace fs = std::filesystem;

constexpr char kAbcDigest[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kEmptyDigest[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

class ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_.path(); }
  // Everything in the store other than blobs (e.g. leftover temporary files).
  std::vector<fs::path> StoreFiles() const {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "store")) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    return files;
  }

  testing::TempDir temp_;
  fs::path dir_;
};

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex("abc"), kAbcDigest);
  EXPECT_EQ(Sha256Hex(""), kEmptyDigest);
}

TEST_F(ArtifactStoreTest, Sha256FileMatchesBufferHashForLargeContent) {
  std::string content;
  for (int i = 0; i < 300000; ++i) content += static_cast<char>('a' + i % 26);  // > 64 KiB buffer
  WriteFile(dir_ / "big", content);
  auto digest = Sha256File(dir_ / "big");
  ASSERT_TRUE(digest.ok()) << digest.message();
  EXPECT_EQ(*digest, Sha256Hex(content));

  WriteFile(dir_ / "abc", "abc");
  EXPECT_EQ(*Sha256File(dir_ / "abc"), kAbcDigest);
}

TEST_F(ArtifactStoreTest, Sha256FileOfMissingFileIsAnError) {
  auto digest = Sha256File(dir_ / "absent");
  ASSERT_FALSE(digest.ok());
  EXPECT_NE(digest.message().find("absent"), std::string::npos);
}

TEST_F(ArtifactStoreTest, PutThenMaterializeRoundTrip) {
  ArtifactStore store(dir_ / "store");
  WriteFile(dir_ / "numbers.txt", "1\n2\n3\n");
  auto digest = store.Put(dir_ / "numbers.txt");
  ASSERT_TRUE(digest.ok()) << digest.message();
  EXPECT_EQ(*digest, Sha256Hex("1\n2\n3\n"));
  EXPECT_TRUE(store.Has(*digest));
  EXPECT_EQ(store.PathOf(*digest), dir_ / "store" / digest->substr(0, 2) / *digest);
  EXPECT_EQ(ReadFile(store.PathOf(*digest)), "1\n2\n3\n");

  fs::path dest = dir_ / "ws" / "deep" / "er" / "numbers.txt";
  Status s = store.Materialize(*digest, dest);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(dest), "1\n2\n3\n");

  // A copy, not a link: the consumer may change its file without touching the blob.
  WriteFile(dest, "changed");
  EXPECT_EQ(ReadFile(store.PathOf(*digest)), "1\n2\n3\n");
  // Materializing again replaces the changed file.
  ASSERT_TRUE(store.Materialize(*digest, dest).ok());
  EXPECT_EQ(ReadFile(dest), "1\n2\n3\n");
  // No temporaries left next to the destination.
  EXPECT_EQ(std::distance(fs::directory_iterator(dest.parent_path()), fs::directory_iterator()), 1);
}

TEST_F(ArtifactStoreTest, PutIsIdempotentAndLeavesNoTemporaries) {
  ArtifactStore store(dir_ / "store");
  WriteFile(dir_ / "a", "same");
  WriteFile(dir_ / "b", "same");
  auto first = store.Put(dir_ / "a");
  auto second = store.Put(dir_ / "b");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(StoreFiles(), std::vector<fs::path>{store.PathOf(*first)});
}

TEST_F(ArtifactStoreTest, PutOfMissingFileIsAnError) {
  ArtifactStore store(dir_ / "store");
  auto digest = store.Put(dir_ / "absent");
  EXPECT_FALSE(digest.ok());
}

TEST_F(ArtifactStoreTest, PutVerifiedChecksTheClaimedDigest) {
  ArtifactStore store(dir_ / "store");
  Status wrong = store.PutVerified("abd", kAbcDigest);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find(kAbcDigest), std::string::npos) << wrong.message();
  EXPECT_FALSE(store.Has(kAbcDigest));

  Status right = store.PutVerified("abc", kAbcDigest);
  ASSERT_TRUE(right.ok()) << right.message();
  EXPECT_TRUE(store.Has(kAbcDigest));
  EXPECT_EQ(ReadFile(store.PathOf(kAbcDigest)), "abc");
  EXPECT_TRUE(store.PutVerified("abc", kAbcDigest).ok());  // again: no-op
  EXPECT_EQ(StoreFiles().size(), 1u);

  ASSERT_TRUE(store.Materialize(kAbcDigest, dir_ / "out").ok());
  EXPECT_EQ(ReadFile(dir_ / "out"), "abc");
}

TEST_F(ArtifactStoreTest, CorruptBlobIsDetectedOnMaterialize) {
  ArtifactStore store(dir_ / "store");
  ASSERT_TRUE(store.PutVerified("abc", kAbcDigest).ok());
  WriteFile(store.PathOf(kAbcDigest), "abX");  // bit rot, or someone editing the store

  fs::path dest = dir_ / "ws" / "input.txt";
  Status s = store.Materialize(kAbcDigest, dest);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), std::string("artifact ") + kAbcDigest + " is corrupt (content hashes to " +
                             Sha256Hex("abX") + ")");
  EXPECT_FALSE(fs::exists(dest)) << "a corrupt copy must not be left for the card to use";
  EXPECT_TRUE(fs::is_empty(dest.parent_path()));
}

TEST_F(ArtifactStoreTest, MissingBlobIsAnError) {
  ArtifactStore store(dir_ / "store");
  Status s = store.Materialize(kEmptyDigest, dir_ / "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not found"), std::string::npos) << s.message();
  EXPECT_FALSE(store.Has(kEmptyDigest));
}

TEST_F(ArtifactStoreTest, InvalidDigestStringsAreRejected) {
  ArtifactStore store(dir_ / "store");
  // A file a traversal would reach, to prove it is never read.
  WriteFile(dir_ / "secret", "abc");
  const std::string bad[] = {
      "",
      "../secret",
      "../../" + std::string(58, 'a'),
      std::string(kAbcDigest).substr(0, 63),
      std::string(kAbcDigest) + "0",
      "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
      std::string(62, 'a') + "/x",
      std::string(63, 'a') + "g",
  };
  for (const std::string& digest : bad) {
    SCOPED_TRACE(digest);
    EXPECT_FALSE(store.Has(digest));
    EXPECT_TRUE(store.PathOf(digest).empty());
    Status m = store.Materialize(digest, dir_ / "out");
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.message().find("invalid artifact digest"), std::string::npos) << m.message();
    EXPECT_FALSE(store.PutVerified("abc", digest).ok());
  }
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(ArtifactStoreTest, UploadInChunksIsPublishedOnlyWhenTheContentMatches) {
  ArtifactStore store(dir_ / "store");
  ArtifactUpload upload(store, 100);
  ASSERT_TRUE(upload.Add(kAbcDigest, "a").ok());
  ASSERT_TRUE(upload.Add("", "b").ok());
  ASSERT_TRUE(upload.Add(kAbcDigest, "c").ok());  // a later chunk may repeat the digest
  EXPECT_FALSE(store.Has(kAbcDigest)) << "nothing is published before the end";
  auto digest = upload.Finish();
  ASSERT_TRUE(digest.ok()) << digest.message();
  EXPECT_EQ(*digest, kAbcDigest);
  EXPECT_EQ(ReadFile(store.PathOf(kAbcDigest)), "abc");
  EXPECT_EQ(StoreFiles().size(), 1u);
  EXPECT_FALSE(upload.Finish().ok()) << "an upload finishes once";
}

TEST_F(ArtifactStoreTest, UploadThatLiesAboutItsDigestLeavesNothing) {
  ArtifactStore store(dir_ / "store");
  ArtifactUpload upload(store, 100);
  ASSERT_TRUE(upload.Add(kAbcDigest, "ab").ok());
  ASSERT_TRUE(upload.Add("", "d").ok());
  auto digest = upload.Finish();
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(digest.message().find(Sha256Hex("abd")), std::string::npos) << digest.message();
  EXPECT_FALSE(store.Has(kAbcDigest));
  EXPECT_TRUE(StoreFiles().empty()) << "the temporary file is removed";
}

TEST_F(ArtifactStoreTest, UploadRejectsAChangedDigestAMissingOneAndTooManyBytes) {
  ArtifactStore store(dir_ / "store");
  {
    ArtifactUpload upload(store, 100);
    ASSERT_TRUE(upload.Add(kAbcDigest, "a").ok());
    Status s = upload.Add(kEmptyDigest, "bc");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("chunk 2 names another sha256"), std::string::npos) << s.message();
    EXPECT_FALSE(upload.Add("", "bc").ok()) << "a failed upload stays failed";
    EXPECT_FALSE(upload.Finish().ok());
  }
  {
    ArtifactUpload upload(store, 100);
    Status s = upload.Add("", "abc");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("first artifact chunk must carry a sha256"), std::string::npos);
  }
  {
    ArtifactUpload upload(store, 5);
    ASSERT_TRUE(upload.Add(kAbcDigest, "abc").ok());
    Status s = upload.Add("", "abc");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("larger than the limit of 5 bytes"), std::string::npos)
        << s.message();
    EXPECT_EQ(upload.bytes(), 3u);
  }
  EXPECT_FALSE(ArtifactUpload(store, 5).Finish().ok()) << "no chunk at all";
  {
    ArtifactUpload abandoned(store, 100);
    ASSERT_TRUE(abandoned.Add(kAbcDigest, "ab").ok());
    EXPECT_EQ(StoreFiles().size(), 1u) << "the temporary file while it arrives";
  }
  EXPECT_TRUE(StoreFiles().empty()) << "an abandoned upload leaves nothing";
  EXPECT_FALSE(store.Has(kAbcDigest));
}

}  // namespace
}  // namespace hollerith

namespace hollerith {
namespace {

// A replica that refuses every save (the database is out of reach).
class RefusingReplica : public ArtifactReplica {
 public:
  Status Save(const std::string&, const fs::path&) override {
    ++saves;
    return Status::Unavailable("the database is out of reach");
  }
  Status Load(const std::string& digest, const fs::path&) override {
    return Status::NotFound("no artifact " + digest);
  }
  int saves = 0;
};

// An artifact counts as published only once the replica has it too: a refused save fails the
// publication and leaves nothing behind, so a later one tries again.
TEST_F(ArtifactStoreTest, APublicationTheReplicaRefusedIsNotPublished) {
  ArtifactStore store(dir_ / "store");
  RefusingReplica replica;
  store.SetReplica(&replica);
  WriteFile(dir_ / "abc", "abc");
  auto put = store.Put(dir_ / "abc");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.message().find("out of reach"), std::string::npos) << put.message();
  EXPECT_FALSE(store.Has(kAbcDigest));
  ArtifactUpload upload(store, 3);
  ASSERT_TRUE(upload.Add(kAbcDigest, "abc").ok());
  EXPECT_FALSE(upload.Finish().ok());
  EXPECT_FALSE(store.Has(kAbcDigest));
  EXPECT_EQ(replica.saves, 2);
  EXPECT_TRUE(StoreFiles().empty());
}

}  // namespace
}  // namespace hollerith
