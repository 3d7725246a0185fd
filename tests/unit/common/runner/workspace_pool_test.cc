#include "common/runner/workspace_pool.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace hollerith {
namespace {

namespace fs = std::filesystem;

TEST(WorkspacePool, CreatesMissingParents) {
  testing::TempDir root;
  WorkspacePool pool(fs::path(root.path()));
  const fs::path ws = fs::path(root.path()) / "job-1" / "a.1";
  ASSERT_TRUE(pool.Create(ws).ok());
  EXPECT_TRUE(fs::is_directory(ws));
  EXPECT_TRUE(fs::is_empty(ws));
}

TEST(WorkspacePool, EmptyWorkspaceIsReusedUnderTheNextStacksName) {
  testing::TempDir root;
  WorkspacePool pool(fs::path(root.path()));
  const fs::path first = fs::path(root.path()) / "job-1" / "a.1";
  ASSERT_TRUE(pool.Create(first).ok());
  pool.Retire(first);
  EXPECT_FALSE(fs::exists(first));
  EXPECT_EQ(pool.spares(), 1u);

  const fs::path second =
      fs::path(root.path()) / "job-2" / "b.1";  // a parent that does not exist yet
  ASSERT_TRUE(pool.Create(second).ok());
  EXPECT_EQ(pool.spares(), 0u);
  EXPECT_TRUE(fs::is_directory(second));
  EXPECT_TRUE(fs::is_empty(second));
}

TEST(WorkspacePool, WorkspaceWithFilesIsRemovedNotReused) {
  testing::TempDir root;
  WorkspacePool pool(fs::path(root.path()));
  const fs::path ws = fs::path(root.path()) / "job-1" / "a.1";
  ASSERT_TRUE(pool.Create(ws).ok());
  fs::create_directories(ws / "sub");
  std::ofstream(ws / "sub" / "left-behind.txt") << "x";
  pool.Retire(ws);
  EXPECT_FALSE(fs::exists(ws));
  EXPECT_EQ(pool.spares(), 0u);
}

TEST(WorkspacePool, KeepsAtMostTheBoundOfSpares) {
  testing::TempDir root;
  WorkspacePool pool(fs::path(root.path()), 2);
  for (int i = 0; i < 5; ++i) {
    const fs::path ws = fs::path(root.path()) / "job" / std::to_string(i);
    ASSERT_TRUE(pool.Create(ws).ok());
  }
  for (int i = 0; i < 5; ++i) pool.Retire(fs::path(root.path()) / "job" / std::to_string(i));
  EXPECT_EQ(pool.spares(), 2u);
  EXPECT_TRUE(fs::is_empty(fs::path(root.path()) / "job"));
}

TEST(WorkspacePool, RetiringAWorkspaceThatWasNeverMadeIsHarmless) {
  testing::TempDir root;
  WorkspacePool pool(fs::path(root.path()));
  pool.Retire(fs::path(root.path()) / "job" /
              "never");  // a stack of built-ins never touches the disk
  EXPECT_EQ(pool.spares(), 0u);
}

TEST(WorkspacePool, ReportsWhyAWorkspaceCannotBeMade) {
  testing::TempDir root;
  std::ofstream(fs::path(root.path()) / "file") << "x";
  WorkspacePool pool(fs::path(root.path()));
  Status s = pool.Create(fs::path(root.path()) / "file" / "a.1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot create workspace"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hollerith
