// `templates:` with parameters and the stacks that use them (`uses:`/`with:`), alone and with a
// matrix; every error at the line that caused it.
#include "common/spec/templates.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "common/spec/parser.h"
#include "same_job.h"

namespace hollerith {
namespace {

std::string ErrorOf(std::string_view text) {
  auto r = ParseJobSpec(text, "t.yaml");
  EXPECT_FALSE(r.ok()) << "parsed, but should not have:\n" << text;
  return r.ok() ? "" : r.message();
}

constexpr std::string_view kTemplates = R"(name: t
templates:
  test:
    params: {image: debian, suite: null}
    node: runner-${{ params.image }}
    cards:
      - id: run
        run: ./test --suite ${{ params.suite }} --image ${{ params.image }} $SUITE
        env: {SUITE: "${{ params.suite }}"}
stacks:
)";

TEST(TemplatesTest, AStackUsesATemplateWithDefaultsAndItsOwnValues) {
  const JobSpec job = MustParse(std::string(kTemplates) +
                                "  unit:\n    uses: test\n    with: {suite: unit}\n"
                                "  e2e:\n    uses: test\n    with: {suite: e2e, image: alpine}\n");
  ASSERT_EQ(job.stacks.size(), 2u);
  EXPECT_EQ(job.stacks[0].id, "unit");
  EXPECT_EQ(job.stacks[0].node, "runner-debian");
  EXPECT_EQ(job.stacks[0].cards[0].shell, "./test --suite unit --image debian $SUITE");
  EXPECT_EQ(job.stacks[0].cards[0].env(),
            (std::vector<std::pair<std::string, std::string>>{{"SUITE", "unit"}}));
  EXPECT_EQ(job.stacks[1].node, "runner-alpine");
  EXPECT_EQ(job.stacks[1].cards[0].shell, "./test --suite e2e --image alpine $SUITE");
  // The template's card points at the template's line.
  EXPECT_EQ(job.stacks[1].cards[0].mark.line, 7);
}

TEST(TemplatesTest, TheStacksOwnKeysOverrideTheTemplates) {
  const JobSpec job = MustParse(std::string(kTemplates) +
                                "  unit:\n    uses: test\n    with: {suite: unit}\n"
                                "    node: fast-1\n    labels: {zone: eu}\n");
  EXPECT_EQ(job.stacks[0].node, "fast-1");
  EXPECT_EQ(job.stacks[0].labels,
            (std::vector<std::pair<std::string, std::string>>{{"zone", "eu"}}));
  EXPECT_EQ(job.stacks[0].cards[0].shell, "./test --suite unit --image debian $SUITE");
}

TEST(TemplatesTest, ATemplateWithAMatrixAndParametersThatUseTheMatrix) {
  const JobSpec job = MustParse(R"(name: t
templates:
  build:
    params: {flags: -O2}
    matrix: {os: [debian, alpine]}
    cards: [{id: make, run: "make ${{ params.flags }} OS=${{ matrix.os }}"}]
stacks:
  fast: {uses: build}
  debug:
    uses: build
    with: {flags: "-g -DOS_${{ matrix.os }}"}
    matrix: {os: [arch]}
)");
  ASSERT_EQ(job.stacks.size(), 3u);
  EXPECT_EQ(job.stacks[0].id, "fast-debian");
  EXPECT_EQ(job.stacks[1].cards[0].shell, "make -O2 OS=alpine");
  EXPECT_EQ(job.stacks[2].id, "debug-arch");
  EXPECT_EQ(job.stacks[2].cards[0].shell, "make -g -DOS_arch OS=arch");
}

TEST(TemplatesTest, ParameterErrorsAreAtTheUsingLine) {
  const std::string base(kTemplates);
  EXPECT_EQ(ErrorOf(base + "  unit:\n    uses: test\n"),
            "t.yaml:12:5: stack 'unit' must set parameter 'suite' of template 'test' in 'with'");
  EXPECT_EQ(ErrorOf(base + "  unit:\n    uses: test\n    with: {suite: a, colour: red}\n"),
            "t.yaml:13:22: stack 'unit' sets unknown parameter 'colour' of template 'test' "
            "(parameters: image, suite)");
  EXPECT_EQ(ErrorOf(base + "  unit:\n    uses: tset\n"),
            "t.yaml:12:11: stack 'unit' uses unknown template 'tset'");
  EXPECT_EQ(ErrorOf(base + "  unit:\n    with: {suite: a}\n    cards: [{id: c, run: x}]\n"),
            "t.yaml:12:11: stack 'unit' has 'with' but no 'uses'");
  EXPECT_EQ(ErrorOf(base + "  unit:\n    cards: [{id: c, run: 'echo ${{ params.suite }}'}]\n"),
            "t.yaml:12:26: '${{ params.suite }}': stack 'unit' uses no template");
}

TEST(TemplatesTest, UnknownParameterInATemplateIsAnErrorAtItsString) {
  EXPECT_EQ(ErrorOf(R"(name: t
templates:
  x:
    params: {a: "1"}
    cards: [{id: c, run: "echo ${{ params.b }}"}]
stacks:
  s: {uses: x}
)"),
            "t.yaml:5:26: '${{ params.b }}': unknown parameter 'b' of template 'x' "
            "(parameters: a)");
}

TEST(TemplatesTest, ATemplateMayNotUseAnotherTemplate) {
  EXPECT_EQ(ErrorOf(R"(name: t
templates:
  a:
    cards: [{id: c, run: x}]
  b:
    uses: a
stacks:
  s: {uses: b}
)"),
            "t.yaml:6:5: template 'b' has 'uses': a template may not use another template "
            "(templates are one level deep)");
}

TEST(TemplatesTest, ExpandedTextParsesToTheSameJob) {
  const std::string spec = std::string(kTemplates) +
                           "  unit:\n    uses: test\n    with: {suite: unit}\n"
                           "  e2e:\n    uses: test\n    with: {suite: e2e, image: alpine}\n";
  auto text = ExpandJobSpec(spec, "t.yaml", SpecFormat::kYaml);
  ASSERT_TRUE(text.ok()) << text.message();
  EXPECT_EQ(text->find("templates"), std::string::npos) << *text;
  ExpectSameJob(MustParse(spec), MustParse(*text));
}

}  // namespace
}  // namespace hollerith
