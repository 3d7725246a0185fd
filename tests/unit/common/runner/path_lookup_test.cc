#include "common/runner/path_lookup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace hollerith {
namespace {

namespace fs = std::filesystem;

void WriteExecutable(const fs::path& file, bool executable) {
  std::ofstream(file) << "#!/bin/sh\n";
  ::chmod(file.c_str(), executable ? 0755 : 0644);
}

TEST(PathLookup, FindsTheFirstExecutableAlongPath) {
  testing::TempDir a;
  testing::TempDir b;
  WriteExecutable(fs::path(a.path()) / "tool", false);  // not executable: skipped, as execvp does
  WriteExecutable(fs::path(b.path()) / "tool", true);
  const std::string path = a.path() + ":" + b.path();
  PathLookup lookup;
  EXPECT_EQ(lookup.Find("tool", path.c_str()), (fs::path(b.path()) / "tool").string());
}

TEST(PathLookup, CachesAndForgets) {
  testing::TempDir a;
  WriteExecutable(fs::path(a.path()) / "tool", true);
  const std::string path = a.path();
  PathLookup lookup;
  ASSERT_TRUE(lookup.Find("tool", path.c_str()));
  fs::remove(fs::path(a.path()) / "tool");
  EXPECT_TRUE(lookup.Find("tool", path.c_str())) << "cached";
  lookup.Forget("tool", path.c_str());
  EXPECT_FALSE(lookup.Find("tool", path.c_str()));
}

TEST(PathLookup, LeavesRelativePathsAndNamesWithSlashesToExecvp) {
  testing::TempDir a;
  WriteExecutable(fs::path(a.path()) / "tool", true);
  PathLookup lookup;
  const std::string relative_first = "bin:" + a.path();
  EXPECT_FALSE(lookup.Find("tool", relative_first.c_str()));
  const std::string empty_entry = ":" + a.path();
  EXPECT_FALSE(lookup.Find("tool", empty_entry.c_str()));
  EXPECT_FALSE(lookup.Find("./tool", a.path().c_str()));
  EXPECT_FALSE(lookup.Find("", a.path().c_str()));
}

TEST(PathLookup, UnsetPathMeansBinAndUsrBin) {
  PathLookup lookup;
  auto sh = lookup.Find("sh", nullptr);
  ASSERT_TRUE(sh);
  EXPECT_TRUE(*sh == "/bin/sh" || *sh == "/usr/bin/sh") << *sh;
}

TEST(PathLookup, ReadsPathFromAnEnvironmentBlock) {
  char a[] = "HOME=/root";
  char b[] = "PATH=/opt/x:/usr/bin";
  char* env[] = {a, b, nullptr};
  EXPECT_STREQ(PathOf(env), "/opt/x:/usr/bin");
  char* none[] = {a, nullptr};
  EXPECT_EQ(PathOf(none), nullptr);
}

}  // namespace
}  // namespace hollerith
