#include "common/workspace_pool.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/scratch_dir.h"

namespace hollerith {
namespace {

namespace fs = std::filesystem;

TEST(WorkspacePool, CreatesMissingParents) {
  testing::ScratchDir root;
  WorkspacePool pool(root.path());
  const fs::path ws = root.path() / "job-1" / "a.1";
  ASSERT_TRUE(pool.Create(ws).ok());
  EXPECT_TRUE(fs::is_directory(ws));
  EXPECT_TRUE(fs::is_empty(ws));
}

TEST(WorkspacePool, EmptyWorkspaceIsReusedUnderTheNextStacksName) {
  testing::ScratchDir root;
  WorkspacePool pool(root.path());
  const fs::path first = root.path() / "job-1" / "a.1";
  ASSERT_TRUE(pool.Create(first).ok());
  pool.Retire(first);
  EXPECT_FALSE(fs::exists(first));
  EXPECT_EQ(pool.spares(), 1u);

  const fs::path second = root.path() / "job-2" / "b.1";  // a parent that does not exist yet
  ASSERT_TRUE(pool.Create(second).ok());
  EXPECT_EQ(pool.spares(), 0u);
  EXPECT_TRUE(fs::is_directory(second));
  EXPECT_TRUE(fs::is_empty(second));
}

TEST(WorkspacePool, WorkspaceWithFilesIsRemovedNotReused) {
  testing::ScratchDir root;
  WorkspacePool pool(root.path());
  const fs::path ws = root.path() / "job-1" / "a.1";
  ASSERT_TRUE(pool.Create(ws).ok());
  fs::create_directories(ws / "sub");
  std::ofstream(ws / "sub" / "left-behind.txt") << "x";
  pool.Retire(ws);
  EXPECT_FALSE(fs::exists(ws));
  EXPECT_EQ(pool.spares(), 0u);
}

TEST(WorkspacePool, KeepsAtMostTheBoundOfSpares) {
  testing::ScratchDir root;
  WorkspacePool pool(root.path(), 2);
  for (int i = 0; i < 5; ++i) {
    const fs::path ws = root.path() / "job" / std::to_string(i);
    ASSERT_TRUE(pool.Create(ws).ok());
  }
  for (int i = 0; i < 5; ++i) pool.Retire(root.path() / "job" / std::to_string(i));
  EXPECT_EQ(pool.spares(), 2u);
  EXPECT_TRUE(fs::is_empty(root.path() / "job"));
}

TEST(WorkspacePool, RetiringAWorkspaceThatWasNeverMadeIsHarmless) {
  testing::ScratchDir root;
  WorkspacePool pool(root.path());
  pool.Retire(root.path() / "job" / "never");  // a stack of built-ins never touches the disk
  EXPECT_EQ(pool.spares(), 0u);
}

TEST(WorkspacePool, ReportsWhyAWorkspaceCannotBeMade) {
  testing::ScratchDir root;
  std::ofstream(root.path() / "file") << "x";
  WorkspacePool pool(root.path());
  Status s = pool.Create(root.path() / "file" / "a.1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot create workspace"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hollerith
