#include "common/path_lookup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/support/scratch_dir.h"

namespace hollerith {
namespace {

namespace fs = std::filesystem;

void WriteExecutable(const fs::path& file, bool executable) {
  std::ofstream(file) << "#!/bin/sh\n";
  ::chmod(file.c_str(), executable ? 0755 : 0644);
}

TEST(PathLookup, FindsTheFirstExecutableAlongPath) {
  testing::ScratchDir a;
  testing::ScratchDir b;
  WriteExecutable(a.path() / "tool", false);  // not executable: skipped, as execvp does
  WriteExecutable(b.path() / "tool", true);
  const std::string path = a.path().string() + ":" + b.path().string();
  PathLookup lookup;
  EXPECT_EQ(lookup.Find("tool", path.c_str()), (b.path() / "tool").string());
}

TEST(PathLookup, CachesAndForgets) {
  testing::ScratchDir a;
  WriteExecutable(a.path() / "tool", true);
  const std::string path = a.path().string();
  PathLookup lookup;
  ASSERT_TRUE(lookup.Find("tool", path.c_str()));
  fs::remove(a.path() / "tool");
  EXPECT_TRUE(lookup.Find("tool", path.c_str())) << "cached";
  lookup.Forget("tool", path.c_str());
  EXPECT_FALSE(lookup.Find("tool", path.c_str()));
}

TEST(PathLookup, LeavesRelativePathsAndNamesWithSlashesToExecvp) {
  testing::ScratchDir a;
  WriteExecutable(a.path() / "tool", true);
  PathLookup lookup;
  const std::string relative_first = "bin:" + a.path().string();
  EXPECT_FALSE(lookup.Find("tool", relative_first.c_str()));
  const std::string empty_entry = ":" + a.path().string();
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
