// `include:`: other spec files merged into the one given, read through a SpecFileReader (here a
// map of files): merging, nesting, relative paths, and every error at its file, line and column.
#include "common/spec/include.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/spec/parser.h"

namespace hollerith {
namespace {

class IncludeTest : public ::testing::Test {
 protected:
  SpecFileReader Reader() {
    return [this](const std::string& path) -> Result<std::string> {
      ++reads_[path];
      auto it = files_.find(path);
      if (it == files_.end()) return Status::NotFound("no such file");
      return it->second;
    };
  }
  Result<JobSpec> Parse(const std::string& main = "main.yaml") {
    const SpecFileReader read = Reader();
    return ParseJobSpec(files_.at(main), main, {}, &read);
  }
  std::string ErrorOf(const std::string& main = "main.yaml") {
    auto r = Parse(main);
    EXPECT_FALSE(r.ok()) << "parsed, but should not have";
    return r.ok() ? "" : r.message();
  }

  std::map<std::string, std::string> files_;
  std::map<std::string, int> reads_;
};

TEST_F(IncludeTest, StacksAndTemplatesOfIncludedFilesJoinTheSpecs) {
  files_["main.yaml"] = R"(name: j
include: [lib/templates.yaml, lib/stacks.yaml]
stacks:
  first: {cards: [{id: a, run: a}]}
)";
  files_["lib/templates.yaml"] = R"(templates:
  t:
    params: {what: null}
    cards: [{id: c, run: "echo ${{ params.what }} ${{ matrix.os }}"}]
)";
  files_["lib/stacks.yaml"] = R"(include: [more/last.yaml, ../lib/templates.yaml]
stacks:
  built:
    matrix: {os: [x, y]}
    uses: t
    with: {what: w}
)";
  files_["lib/more/last.yaml"] = "stacks:\n  last: {cards: [{id: z, run: \"echo $${{ z }}\"}]}\n";
  auto job = Parse();
  ASSERT_TRUE(job.ok()) << job.message();
  ASSERT_EQ(job->stacks.size(), 4u);
  EXPECT_EQ(job->stacks[0].id, "first");
  EXPECT_EQ(job->stacks[1].id, "built-x");
  EXPECT_EQ(job->stacks[1].cards[0].shell, "echo w x");
  EXPECT_EQ(job->stacks[3].id, "last");
  EXPECT_EQ(job->stacks[3].cards[0].shell, "echo ${{ z }}");
  EXPECT_EQ(job->included, (std::vector<std::string>{"lib/templates.yaml", "lib/stacks.yaml",
                                                     "lib/more/last.yaml"}));
  EXPECT_EQ(reads_["lib/templates.yaml"], 1) << "a file named twice is read once";
  // Marks say which file a stack came from.
  EXPECT_EQ(job->Where(job->stacks[3].mark), "lib/more/last.yaml:2:3");
  EXPECT_EQ(job->Where(job->stacks[0].mark), "main.yaml:4:3");

  // What `hollerith submit` sends: one document that parses to the same job, with no include.
  auto merged = MergeSpecIncludes(files_["main.yaml"], "main.yaml", {}, Reader());
  ASSERT_TRUE(merged.ok()) << merged.message();
  EXPECT_EQ(merged->find("include"), std::string::npos) << *merged;
  auto again = ParseJobSpec(*merged, "sent.json");
  ASSERT_TRUE(again.ok()) << again.message();
  ASSERT_EQ(again->stacks.size(), job->stacks.size());
  for (size_t s = 0; s < job->stacks.size(); ++s) {
    EXPECT_EQ(again->stacks[s].id, job->stacks[s].id);
    EXPECT_EQ(again->stacks[s].cards[0].shell, job->stacks[s].cards[0].shell);
  }
  // A spec without includes is sent as it is.
  const std::string plain = "name: p\nstacks: {a: {cards: [{id: a, run: a}]}}\n";
  EXPECT_EQ(*MergeSpecIncludes(plain, "p.yaml", {}, Reader()), plain);
}

TEST_F(IncludeTest, ErrorsNameTheFileTheyAreIn) {
  files_["main.yaml"] = "name: j\ninclude: [a.yaml]\nstacks:\n  s: {cards: [{id: a, run: a}]}\n";
  files_["a.yaml"] = "stacks:\n  t: {cards: [{id: b, run: b, after: [nope.x]}]}\n";
  EXPECT_EQ(ErrorOf(), "a.yaml:2:39: after 'nope.x' of card 't.b' refers to unknown stack 'nope'");
  files_["a.yaml"] = "stacks:\n  t: {cards: [{id: b, run: b\n";
  EXPECT_NE(ErrorOf().find("a.yaml:3:1: syntax error"), std::string::npos) << ErrorOf();
  files_["a.yaml"] = "name: other\nstacks:\n  t: {cards: [{id: b, run: b}]}\n";
  EXPECT_EQ(ErrorOf(),
            "a.yaml:1:1: an included file may hold only 'include', 'templates' and "
            "'stacks', not 'name'");
  files_["a.yaml"] = "stacks:\n  s: {cards: [{id: b, run: b}]}\n";
  EXPECT_EQ(ErrorOf(), "a.yaml:2:3: duplicate stack id 's' (first in main.yaml:4:3)");
  files_["main.yaml"] = "name: j\ninclude: [a.yaml, missing.yaml]\nstacks: {}\n";
  EXPECT_EQ(ErrorOf(), "main.yaml:2:19: cannot include 'missing.yaml': no such file");
  files_["main.yaml"] = "name: j\ninclude: a.yaml\nstacks:\n  s: {cards: [{id: a, run: a}]}\n";
  EXPECT_EQ(ErrorOf(), "main.yaml:2:10: 'include' must be a list of spec files");
}

TEST_F(IncludeTest, TemplatesTwoFilesDefineAreAnError) {
  files_["main.yaml"] = R"(name: j
include: [a.yaml]
templates:
  t: {cards: [{id: c, run: c}]}
stacks:
  s: {uses: t}
)";
  files_["a.yaml"] = "templates:\n  t: {cards: [{id: d, run: d}]}\n";
  EXPECT_EQ(ErrorOf(), "a.yaml:2:3: duplicate template 't' (first in main.yaml:4:3)");
}

TEST_F(IncludeTest, CyclesAreRefusedWithTheirPath) {
  files_["main.yaml"] = "name: j\ninclude: [dir/a.yaml]\nstacks: {s: {cards: [{id: a, run: a}]}}\n";
  files_["dir/a.yaml"] = "include: [b.yaml]\n";
  files_["dir/b.yaml"] = "include: [../main.yaml]\n";
  EXPECT_EQ(ErrorOf(),
            "dir/b.yaml:1:11: include cycle: main.yaml -> dir/a.yaml -> dir/b.yaml -> main.yaml");
  files_["dir/b.yaml"] = "include: [b.yaml]\n";
  EXPECT_EQ(ErrorOf(),
            "dir/b.yaml:1:11: include cycle: main.yaml -> dir/a.yaml -> dir/b.yaml -> dir/b.yaml");
}

TEST_F(IncludeTest, IncludesNestedTooDeepAreRefused) {
  files_["main.yaml"] = "name: j\ninclude: [f1.yaml]\nstacks: {s: {cards: [{id: a, run: a}]}}\n";
  for (int i = 1; i <= kMaxIncludeDepth + 1; ++i) {
    files_["f" + std::to_string(i) + ".yaml"] = "include: [f" + std::to_string(i + 1) + ".yaml]\n";
  }
  files_["f" + std::to_string(kMaxIncludeDepth + 2) + ".yaml"] = "stacks: {}\n";
  EXPECT_NE(ErrorOf().find("includes nested more than 16 deep"), std::string::npos) << ErrorOf();
  files_["f" + std::to_string(kMaxIncludeDepth) + ".yaml"] = "stacks: {}\n";
  EXPECT_TRUE(Parse().ok()) << Parse().message();
}

TEST_F(IncludeTest, WithoutFilesAtHandIncludeIsAnError) {
  auto r = ParseJobSpec("name: j\ninclude: [a.yaml]\nstacks: {s: {cards: [{id: a, run: a}]}}\n",
                        "sent.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("sent.yaml:1:1: 'include' needs the files it names"),
            std::string::npos)
      << r.message();
}

TEST(IncludePath, IsRelativeToTheIncludingFile) {
  EXPECT_EQ(IncludePath("main.yaml", "a.yaml"), "a.yaml");
  EXPECT_EQ(IncludePath("dir/main.yaml", "a.yaml"), "dir/a.yaml");
  EXPECT_EQ(IncludePath("dir/main.yaml", "./sub/../a.yaml"), "dir/a.yaml");
  EXPECT_EQ(IncludePath("dir/main.yaml", "../../a.yaml"), "../a.yaml");
  EXPECT_EQ(IncludePath("/etc/jobs/main.yaml", "../lib/a.yaml"), "/etc/lib/a.yaml");
  EXPECT_EQ(IncludePath("dir/main.yaml", "/abs/a.yaml"), "/abs/a.yaml");
}

}  // namespace
}  // namespace hollerith
