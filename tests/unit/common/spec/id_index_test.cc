#include "common/spec/id_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hollerith {
namespace {

// Ids are views: the strings live as long as the index.
std::vector<std::string> Ids(size_t n) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back("id" + std::to_string(i));
  return ids;
}

TEST(SpecIdIndex, IndexesInCallOrderAndFindsDuplicatesBeforeAndAfterItGrowsATable) {
  // 3 ids stay in the small, compared-in-order form; 1,000 cross into the table and grow it.
  for (size_t n : {3u, 8u, 9u, 1000u}) {
    SCOPED_TRACE(n);
    const std::vector<std::string> ids = Ids(n);
    SpecIdIndex index;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(index.Add(ids[i]), SpecIdIndex::kAbsent);
      // Every id added so far is found, with its index, at each step of the growth.
      ASSERT_EQ(index.Find(ids[i / 2]), i / 2);
    }
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(index.Find(ids[i]), i);
      EXPECT_EQ(index.Add(ids[i]), i) << "a duplicate gets the index the id already has";
    }
    EXPECT_EQ(index.Find("missing"), SpecIdIndex::kAbsent);
    EXPECT_EQ(index.Add("new"), SpecIdIndex::kAbsent);
    EXPECT_EQ(index.Find("new"), n);
  }
}

TEST(SpecIdIndex, ReservedForManyOrFewAlike) {
  const std::vector<std::string> ids = Ids(20);
  for (size_t reserved : {0u, 2u, 20u, 1000u}) {
    SCOPED_TRACE(reserved);
    SpecIdIndex index;
    index.Reserve(reserved);
    EXPECT_EQ(index.Find("id0"), SpecIdIndex::kAbsent);
    for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(index.Add(ids[i]), SpecIdIndex::kAbsent);
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(index.Find(ids[i]), i);
  }
}

}  // namespace
}  // namespace hollerith
