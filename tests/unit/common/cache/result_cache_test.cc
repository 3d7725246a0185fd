#include "common/cache/result_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace hollerith {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// A 64-hex digest made of one repeated character.
std::string Hex(char c) { return std::string(64, c); }

CacheEntry MakeEntry(const std::string& scope, const std::string& key, uint64_t bytes,
                     int64_t created_us, Pairs outputs = {}) {
  CacheEntry e;
  e.scope = scope;
  e.key = key;
  e.job = "17";
  e.job_name = "build";
  e.card_name = "compile.cc";
  e.exit_code = 0;
  e.stdout_text = "ok\n";
  e.outputs = std::move(outputs);
  e.parts = {{"command", Hex('c')}, {"env", Hex('e')}};
  e.bytes = bytes;
  e.created_us = created_us;
  return e;
}

std::unique_ptr<ResultCache> OpenOrDie(const std::string& path, uint64_t max_bytes = 0) {
  auto cache = ResultCache::Open(path, max_bytes);
  EXPECT_TRUE(cache.ok()) << cache.status().message();
  return cache.ok() ? std::move(cache).value() : nullptr;
}

std::vector<std::string> Keys(const std::vector<CacheEntry>& entries) {
  std::vector<std::string> keys;
  for (const CacheEntry& e : entries) keys.push_back(e.key);
  return keys;
}

TEST(ResultCacheTest, PutThenLookupHitsAndReturnsEveryField) {
  auto cache = OpenOrDie("");
  CacheEntry in;
  in.scope = "tenant-a";
  in.key = Hex('1');
  in.job = "17";
  in.job_name = "nightly";
  in.card_name = "build.link";
  in.exit_code = 3;
  in.stdout_text = std::string("line one\nbinary \0\xff bytes", 24);
  in.stdout_truncated = true;
  in.outputs = {{"out/a:b\n.bin", Hex('a')}, {"out/12:c", Hex('b')}, {"", Hex('d')}};
  in.parts = {{"command", Hex('c')}, {"earlier cards", Hex('e')}, {"cache_version", ""}};
  in.bytes = 1234;
  in.created_us = 1000;
  in.last_used_us = 1500;
  auto put = cache->Put(in);
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_TRUE(put->empty());

  auto hit = cache->Lookup("tenant-a", Hex('1'), 9000);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->scope, "tenant-a");
  EXPECT_EQ(hit->key, Hex('1'));
  EXPECT_EQ(hit->job, "17");
  EXPECT_EQ(hit->job_name, "nightly");
  EXPECT_EQ(hit->card_name, "build.link");
  EXPECT_EQ(hit->exit_code, 3);
  EXPECT_EQ(hit->stdout_text, in.stdout_text);
  EXPECT_TRUE(hit->stdout_truncated);
  EXPECT_EQ(hit->outputs, in.outputs);
  EXPECT_EQ(hit->parts, in.parts);
  EXPECT_EQ(hit->bytes, 1234u);
  EXPECT_EQ(hit->created_us, 1000);
  EXPECT_EQ(hit->last_used_us, 9000);  // the hit's time
  EXPECT_EQ(cache->Peek("tenant-a", Hex('1'))->last_used_us, 9000);
  EXPECT_FALSE(cache->Lookup("tenant-a", Hex('2'), 9000).has_value());
}

TEST(ResultCacheTest, LastUsedDefaultsToCreated) {
  auto cache = OpenOrDie("");
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('1'), 10, 777)).ok());
  EXPECT_EQ(cache->Peek("s", Hex('1'))->last_used_us, 777);
}

TEST(ResultCacheTest, AnotherScopesEntryIsNotFound) {
  auto cache = OpenOrDie("");
  ASSERT_TRUE(cache->Put(MakeEntry("tenant-a", Hex('1'), 10, 1)).ok());
  EXPECT_FALSE(cache->Lookup("tenant-b", Hex('1'), 2).has_value());
  EXPECT_FALSE(cache->Peek("tenant-b", Hex('1')).has_value());
  EXPECT_FALSE(cache->LastFor("tenant-b", "build", "compile.cc").has_value());
  EXPECT_TRUE(cache->List("tenant-b").empty());
  EXPECT_TRUE(cache->Lookup("tenant-a", Hex('1'), 2).has_value());
}

TEST(ResultCacheTest, PutReplacesTheEntryOfTheSameKey) {
  auto cache = OpenOrDie("");
  ASSERT_TRUE(
      cache->Put(MakeEntry("s", Hex('1'), 100, 1, {{"a", Hex('a')}, {"b", Hex('b')}})).ok());
  CacheEntry second = MakeEntry("s", Hex('1'), 40, 2, {{"b", Hex('b')}, {"c", Hex('c')}});
  second.exit_code = 1;
  second.stdout_text = "second";
  auto put = cache->Put(second);
  ASSERT_TRUE(put.ok()) << put.status().message();
  // a was only the old entry's; b is still referred to by the new one.
  EXPECT_EQ(*put, std::vector<std::string>{Hex('a')});
  auto got = cache->Peek("s", Hex('1'));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->exit_code, 1);
  EXPECT_EQ(got->stdout_text, "second");
  EXPECT_EQ(got->outputs, second.outputs);
  EXPECT_EQ(cache->stats().entries, 1u);
  EXPECT_EQ(cache->stats().bytes, 40u);
}

TEST(ResultCacheTest, EntriesSurviveCloseAndReopen) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/cache/cache.db";  // its directory is created
  {
    auto cache = OpenOrDie(path, 1000);
    ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('1'), 100, 10, {{"o", Hex('a')}})).ok());
    ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('2'), 200, 20)).ok());
    ASSERT_TRUE(cache->Lookup("s", Hex('1'), 30).has_value());  // 1 is now the most recent
  }
  auto cache = OpenOrDie(path, 1000);
  EXPECT_EQ(cache->stats().entries, 2u);
  EXPECT_EQ(cache->stats().bytes, 300u);
  EXPECT_EQ(cache->stats().hits, 0u);  // counted since Open
  EXPECT_EQ(Keys(cache->List("")), (std::vector<std::string>{Hex('1'), Hex('2')}));
  auto got = cache->Peek("s", Hex('1'));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->last_used_us, 30);
  EXPECT_EQ(got->outputs, (Pairs{{"o", Hex('a')}}));
  EXPECT_EQ(got->stdout_text, "ok\n");
  // The reloaded index knows the references: removing the entry orphans its output.
  std::vector<std::string> orphaned;
  ASSERT_EQ(cache->Remove("s", Hex('1'), &orphaned).value(), 1u);
  EXPECT_EQ(orphaned, std::vector<std::string>{Hex('a')});
}

TEST(ResultCacheTest, LruEvictionKeepsTheBoundAndEvictsTheLeastRecentlyUsed) {
  auto cache = OpenOrDie("", 300);
  ASSERT_TRUE(cache->Put(MakeEntry("a", Hex('1'), 100, 10, {{"o", Hex('a')}})).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("b", Hex('2'), 100, 20, {{"o", Hex('b')}})).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("a", Hex('3'), 100, 30, {{"o", Hex('c')}})).ok());
  ASSERT_TRUE(cache->Lookup("a", Hex('1'), 40).has_value());  // 1 refreshed: 2 is the oldest now

  auto put = cache->Put(MakeEntry("a", Hex('4'), 100, 50));  // any scope's entry may go
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(*put, std::vector<std::string>{Hex('b')});
  EXPECT_FALSE(cache->Peek("b", Hex('2')).has_value());
  EXPECT_LE(cache->stats().bytes, 300u);
  EXPECT_EQ(cache->stats().entries, 3u);
  EXPECT_EQ(cache->stats().evictions, 1u);

  // A bigger entry evicts as many as it needs, oldest first: 3 (30), then 1 (40).
  put = cache->Put(MakeEntry("a", Hex('5'), 200, 60));
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(*put, (std::vector<std::string>{Hex('a'), Hex('c')}));
  EXPECT_EQ(Keys(cache->List("")), (std::vector<std::string>{Hex('5'), Hex('4')}));
  EXPECT_EQ(cache->stats().bytes, 300u);
  EXPECT_EQ(cache->stats().evictions, 3u);
}

TEST(ResultCacheTest, EvictionNeverTakesTheEntryJustPut) {
  auto cache = OpenOrDie("", 200);
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('1'), 100, 100)).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('2'), 100, 200)).ok());
  // Its last use is older than everything else's, yet it stays and the others make room.
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('3'), 150, 5)).ok());
  EXPECT_TRUE(cache->Peek("s", Hex('3')).has_value());
  EXPECT_EQ(cache->stats().entries, 1u);
  EXPECT_EQ(cache->stats().bytes, 150u);
  // Replacing an entry with a bigger one: its old size does not count twice.
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('3'), 200, 6)).ok());
  EXPECT_EQ(cache->stats().entries, 1u);
  EXPECT_EQ(cache->stats().evictions, 2u);
}

TEST(ResultCacheTest, AnEntryBiggerThanTheBoundIsRefused) {
  auto cache = OpenOrDie("", 100);
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('1'), 60, 1)).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('2'), 40, 1)).ok());
  auto put = cache->Put(MakeEntry("s", Hex('3'), 101, 2));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(put.status().message().find("not kept"), std::string::npos) << put.status().message();
  // Nothing changed: nothing evicted to make room, the refused entry absent.
  EXPECT_FALSE(cache->Peek("s", Hex('3')).has_value());
  EXPECT_EQ(cache->stats().entries, 2u);
  EXPECT_EQ(cache->stats().evictions, 0u);
  // Exactly the bound fits.
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('3'), 100, 3)).ok());
  EXPECT_EQ(cache->stats().entries, 1u);
}

TEST(ResultCacheTest, LastForReturnsTheLatestOfThatCard) {
  auto cache = OpenOrDie("");
  CacheEntry older = MakeEntry("s", Hex('1'), 10, 100);
  older.parts = {{"command", Hex('1')}};
  CacheEntry newer = MakeEntry("s", Hex('2'), 10, 200);
  newer.parts = {{"command", Hex('2')}};
  CacheEntry other_card = MakeEntry("s", Hex('3'), 10, 300);
  other_card.card_name = "compile.other";
  CacheEntry other_job = MakeEntry("s", Hex('4'), 10, 400);
  other_job.job_name = "release";
  for (const CacheEntry& e : {older, newer, other_card, other_job}) ASSERT_TRUE(cache->Put(e).ok());

  auto last = cache->LastFor("s", "build", "compile.cc");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->key, Hex('2'));
  EXPECT_EQ(last->parts, newer.parts);
  ASSERT_TRUE(cache->Lookup("s", Hex('1'), 500).has_value());  // used again: now the latest
  EXPECT_EQ(cache->LastFor("s", "build", "compile.cc")->key, Hex('1'));
  EXPECT_EQ(cache->LastFor("s", "build", "compile.other")->key, Hex('3'));
  EXPECT_FALSE(cache->LastFor("s", "build", "missing.card").has_value());
  EXPECT_FALSE(cache->LastFor("t", "build", "compile.cc").has_value());
  // LastFor touches nothing.
  EXPECT_EQ(cache->stats().hits, 1u);
  EXPECT_EQ(cache->stats().misses, 0u);

  ASSERT_EQ(cache->Remove("s", Hex('1')).value(), 1u);
  EXPECT_EQ(cache->LastFor("s", "build", "compile.cc")->key, Hex('2'));
}

TEST(ResultCacheTest, RemoveAndClearWithScope) {
  auto cache = OpenOrDie("");
  ASSERT_TRUE(cache->Put(MakeEntry("a", Hex('1'), 10, 1)).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("a", Hex('2'), 20, 2)).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("b", Hex('1'), 30, 3)).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("c", Hex('3'), 40, 4)).ok());

  EXPECT_EQ(cache->Remove("b", Hex('2')).value(), 0u);  // another scope's key
  EXPECT_EQ(cache->Remove("b", Hex('1')).value(), 1u);
  EXPECT_FALSE(cache->Peek("b", Hex('1')).has_value());
  EXPECT_TRUE(cache->Peek("a", Hex('1')).has_value());

  EXPECT_EQ(cache->Clear("a").value(), 2u);
  EXPECT_TRUE(cache->List("a").empty());
  EXPECT_EQ(Keys(cache->List("")), std::vector<std::string>{Hex('3')});
  EXPECT_EQ(cache->stats().entries, 1u);
  EXPECT_EQ(cache->stats().bytes, 40u);
  EXPECT_EQ(cache->Clear("nobody").value(), 0u);

  ASSERT_TRUE(cache->Put(MakeEntry("a", Hex('1'), 10, 5)).ok());
  EXPECT_EQ(cache->Clear("").value(), 2u);
  EXPECT_EQ(cache->stats().entries, 0u);
  EXPECT_EQ(cache->stats().bytes, 0u);
  EXPECT_TRUE(cache->List("").empty());
}

TEST(ResultCacheTest, ListIsMostRecentlyUsedFirstWithoutStdout) {
  auto cache = OpenOrDie("");
  ASSERT_TRUE(cache->Put(MakeEntry("a", Hex('1'), 10, 1)).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("b", Hex('2'), 10, 2)).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("a", Hex('3'), 10, 3)).ok());
  ASSERT_TRUE(cache->Lookup("a", Hex('1'), 4).has_value());
  auto all = cache->List("");
  EXPECT_EQ(Keys(all), (std::vector<std::string>{Hex('1'), Hex('3'), Hex('2')}));
  for (const CacheEntry& e : all) {
    EXPECT_TRUE(e.stdout_text.empty());
    EXPECT_EQ(e.card_name, "compile.cc");
    EXPECT_EQ(e.parts.size(), 2u);
  }
  EXPECT_EQ(Keys(cache->List("a")), (std::vector<std::string>{Hex('1'), Hex('3')}));
}

TEST(ResultCacheTest, OrphanedDigestsOnlyWhenNoOtherEntryRefersToThem) {
  auto cache = OpenOrDie("");
  // Shared across scopes, and twice within one entry.
  ASSERT_TRUE(cache
                  ->Put(MakeEntry("a", Hex('1'), 10, 1,
                                  {{"x", Hex('s')}, {"y", Hex('s')}, {"z", Hex('u')}}))
                  .ok());
  ASSERT_TRUE(cache->Put(MakeEntry("b", Hex('2'), 10, 2, {{"x", Hex('s')}, {"w", Hex('v')}})).ok());

  std::vector<std::string> orphaned{"stale"};
  ASSERT_EQ(cache->Remove("a", Hex('1'), &orphaned).value(), 1u);
  EXPECT_EQ(orphaned, std::vector<std::string>{Hex('u')});  // s is still b's
  ASSERT_EQ(cache->Remove("a", Hex('1'), &orphaned).value(), 0u);
  EXPECT_TRUE(orphaned.empty());
  ASSERT_EQ(cache->Clear("b", &orphaned).value(), 1u);
  EXPECT_EQ(orphaned, (std::vector<std::string>{Hex('s'), Hex('v')}));
}

TEST(ResultCacheTest, StatsCountHitsMissesAndEvictions) {
  auto cache = OpenOrDie("", 20);
  EXPECT_EQ(cache->max_bytes(), 20u);
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('1'), 10, 1)).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('2'), 10, 2)).ok());
  EXPECT_TRUE(cache->Lookup("s", Hex('1'), 3).has_value());
  EXPECT_TRUE(cache->Lookup("s", Hex('1'), 4).has_value());
  EXPECT_FALSE(cache->Lookup("s", Hex('9'), 5).has_value());
  EXPECT_TRUE(cache->Peek("s", Hex('2')).has_value());  // Peek counts nothing
  EXPECT_FALSE(cache->Peek("s", Hex('9')).has_value());
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('3'), 10, 6)).ok());  // evicts 2
  const CacheStats stats = cache->stats();
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_EQ(stats.bytes, 20u);
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.evictions, 1u);
  EXPECT_FALSE(cache->Lookup("s", Hex('2'), 7).has_value());
  EXPECT_EQ(cache->stats().misses, 2u);
}

TEST(ResultCacheTest, ACorruptFileIsAnErrorNamingTheFile) {
  testing::TempDir dir;
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>((i * 7919) % 251));
  const std::string path = dir.Write("cache.db", garbage);
  auto cache = ResultCache::Open(path, 0);
  ASSERT_FALSE(cache.ok());
  EXPECT_NE(cache.status().message().find(path), std::string::npos) << cache.status().message();
}

TEST(ResultCacheTest, ADamagedPageIsAnErrorNamingTheFile) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/cache.db";
  {
    auto cache = OpenOrDie(path);
    for (char c : std::string("0123456789abcdef")) {
      CacheEntry e = MakeEntry("s", Hex(c), 10, 1);
      e.stdout_text = std::string(3000, c);
      ASSERT_TRUE(cache->Put(e).ok());
    }
  }  // closing checkpoints the WAL into the file
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);  // pages 2 to 4: the tables' roots, past the file's header
    const std::string garbage(3 * 4096, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto cache = ResultCache::Open(path, 0);
  ASSERT_FALSE(cache.ok());
  EXPECT_NE(cache.status().message().find(path), std::string::npos) << cache.status().message();
}

TEST(ResultCacheTest, ANewerSchemaIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/cache.db";
  ASSERT_NE(OpenOrDie(path), nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto cache = ResultCache::Open(path, 0);
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(cache.status().message().find(path), std::string::npos) << cache.status().message();
  EXPECT_NE(cache.status().message().find("99"), std::string::npos) << cache.status().message();
}

// A write that fails (here: another connection holds the write lock past the busy timeout) is an
// error; what the cache says afterwards is what was committed.
TEST(ResultCacheTest, AFailedWriteChangesNothing) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/cache.db";
  auto cache = OpenOrDie(path, 100);
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('1'), 60, 1, {{"o", Hex('a')}})).ok());
  ASSERT_TRUE(cache->Flush().ok());

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto put = cache->Put(MakeEntry("s", Hex('2'), 60, 2));  // would evict 1
  EXPECT_FALSE(put.ok());
  EXPECT_NE(put.status().message().find(path), std::string::npos) << put.status().message();
  EXPECT_FALSE(cache->Remove("s", Hex('1')).ok());
  // Reads go on; the hit's time could not be recorded, so it keeps the old one.
  auto hit = cache->Lookup("s", Hex('1'), 50);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->last_used_us, 1);
  EXPECT_EQ(cache->stats().entries, 1u);
  EXPECT_EQ(cache->stats().bytes, 60u);
  EXPECT_EQ(cache->stats().evictions, 0u);
  EXPECT_FALSE(cache->Peek("s", Hex('2')).has_value());
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  put = cache->Put(MakeEntry("s", Hex('2'), 60, 2));
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(*put, std::vector<std::string>{Hex('a')});
  EXPECT_EQ(Keys(cache->List("")), std::vector<std::string>{Hex('2')});
}

TEST(ResultCacheTest, LastHistoryGivesTheLatestEntrysJobAndPartTagsFromMemory) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/cache.db";
  {
    auto cache = OpenOrDie(path, 0);
    CacheEntry e = MakeEntry("s", Hex('1'), 10, 1);
    e.parts = {{"command", "0000000a" + std::string(56, '0')}, {"env", Hex('f')}};
    ASSERT_TRUE(cache->Put(e).ok());
    auto history = cache->LastHistory("s", e.job_name, e.card_name);
    ASSERT_TRUE(history.has_value());
    EXPECT_EQ(history->job, e.job);
    EXPECT_EQ(history->part_tags, (std::vector<uint32_t>{10u, 0xffffffffu}));
    EXPECT_FALSE(cache->LastHistory("t", e.job_name, e.card_name).has_value());
  }
  auto reopened = OpenOrDie(path, 0);  // the tags come back from the file
  const CacheEntry e = MakeEntry("s", Hex('1'), 10, 1);
  auto history = reopened->LastHistory("s", e.job_name, e.card_name);
  ASSERT_TRUE(history.has_value());
  EXPECT_EQ(history->part_tags, (std::vector<uint32_t>{10u, 0xffffffffu}));
}

TEST(ResultCacheTest, PutsAreSeenAtOnceAndCommittedTogetherByFlush) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/cache.db";
  auto cache = OpenOrDie(path, 0);
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('1'), 10, 1)).ok());
  ASSERT_TRUE(cache->Put(MakeEntry("s", Hex('2'), 10, 2)).ok());
  EXPECT_TRUE(cache->has_pending());
  EXPECT_TRUE(cache->Lookup("s", Hex('2'), 3).has_value()) << "seen by this cache at once";
  auto rows = [&] {
    sqlite3* other = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(other, "SELECT count(*) FROM entries", -1, &stmt, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    const int n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(other);
    return n;
  };
  EXPECT_EQ(rows(), 0) << "not committed before Flush";
  ASSERT_TRUE(cache->Flush().ok());
  EXPECT_FALSE(cache->has_pending());
  EXPECT_EQ(rows(), 2);
}

}  // namespace
}  // namespace hollerith
