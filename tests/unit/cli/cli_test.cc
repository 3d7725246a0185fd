// The `hollerith` command's pieces without a coordinator: the workers table and its version
// warnings, the plain progress lines, the job spec reference against the schema, completion scripts
// derived from an app.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <set>
#include <string>

#include "cli/commands/completion.h"
#include "cli/commands/spec_reference.h"
#include "cli/display/progress.h"
#include "cli/display/tables.h"
#include "common/spec/parser.h"
#include "common/spec/schema.h"

namespace hollerith::cli {
namespace {

v1::WorkerInfo Worker(const std::string& name, const std::string& version) {
  v1::WorkerInfo w;
  w.set_name(name);
  w.set_slots(2);
  w.set_version(version);
  return w;
}

// What `print` writes to a FILE (not a terminal).
std::string Captured(const std::function<void(std::FILE*)>& print) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buf, &size);
  print(out);
  std::fclose(out);
  std::string text(buf, size);
  std::free(buf);
  return text;
}

std::string Printed(const std::vector<v1::WorkerInfo>& workers) {
  return Captured([&](std::FILE* out) { PrintWorkersTable(out, workers); });
}

TEST(WorkersTable, ShowsEachWorkersVersion) {
  const std::string text =
      Printed({Worker("w1", "0.1.0 (git abc1234)"), Worker("w2", ""), Worker("w3", "0.2.0")});
  EXPECT_NE(text.find("VERSION"), std::string::npos) << text;
  EXPECT_NE(text.find("0.1.0 (git abc1234)"), std::string::npos) << text;
  EXPECT_NE(text.find("0.2.0"), std::string::npos) << text;
}

TEST(WorkersTable, WarnsOncePerWorkerWhoseVersionDiffers) {
  const std::string mine = "0.1.0 (git abc1234)";
  const auto lines = VersionMismatchWarnings(
      {Worker("same", mine), Worker("older", "0.0.9 (git 0000000)"), Worker("silent", "")}, mine);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "warning: worker 'older' runs 0.0.9 (git 0000000), the coordinator " + mine);
  EXPECT_EQ(lines[1], "warning: worker 'silent' runs an unknown version, the coordinator " + mine);
}

TEST(WorkersTable, NoWarningsFromACoordinatorThatDoesNotSayItsVersion) {
  EXPECT_TRUE(VersionMismatchWarnings({Worker("w1", "0.1.0")}, "").empty());
}

std::set<std::string> Keys(const std::vector<std::string_view>& keys) {
  return {keys.begin(), keys.end()};
}

TEST(SpecReference, DocumentsExactlyTheKeysTheSchemaAccepts) {
  const SpecKeys& schema = AcceptedSpecKeys();
  const std::vector<std::pair<std::string, std::set<std::string>>> want = {
      {"job", Keys(schema.job)},
      {"stack", Keys(schema.stack)},
      {"card", Keys(schema.card)},
      {"template", Keys(schema.template_keys)},
      {"combine", Keys(schema.combine)}};
  const auto& levels = SpecReference();
  ASSERT_EQ(levels.size(), want.size());
  for (size_t i = 0; i < levels.size(); ++i) {
    EXPECT_EQ(levels[i].title, want[i].first);
    std::set<std::string> documented;
    for (const auto& k : levels[i].keys) {
      EXPECT_TRUE(documented.insert(k.key).second) << k.key << " twice in " << levels[i].title;
      EXPECT_NE(std::string(k.type), "");
      EXPECT_NE(std::string(k.default_value), "");
      EXPECT_NE(std::string(k.example).find(k.key), std::string::npos)
          << "the example of " << k.key << " uses it";
    }
    EXPECT_EQ(documented, want[i].second) << levels[i].title;
  }
  EXPECT_FALSE(schema.combine.empty());
  EXPECT_LT(schema.combine.size(), schema.card.size());
}

TEST(SpecReference, TextNamesEveryKeyAndTheBuiltins) {
  const std::string text = SpecReferenceText();
  const SpecKeys& schema = AcceptedSpecKeys();
  for (const auto* level :
       {&schema.job, &schema.stack, &schema.card, &schema.template_keys, &schema.combine}) {
    for (std::string_view key : *level) {
      EXPECT_NE(text.find("\n  " + std::string(key) + "\n"), std::string::npos) << key;
    }
  }
  EXPECT_NE(text.find("noop"), std::string::npos);
  EXPECT_NE(text.find("sleep"), std::string::npos);
}

TEST(SpecReference, TextStatesTheParsersLimits) {
  const std::string limits = SpecLimitsText();
  const SpecLimits defaults;
  EXPECT_NE(limits.find(std::to_string(defaults.max_file_bytes >> 20) + " MiB"), std::string::npos)
      << limits;
  EXPECT_NE(limits.find(std::to_string(defaults.max_depth) + " levels"), std::string::npos);
  EXPECT_NE(limits.find("ids of 1-64 characters"), std::string::npos) << limits;
  EXPECT_NE(limits.find("no YAML aliases"), std::string::npos) << limits;
  // The text says what the parser does: one id over the length limit is refused.
  auto spec = ParseJobSpec(
      "name: x\nstacks:\n  " + std::string(65, 'a') + ":\n    cards: [{id: a, builtin: noop}]\n",
      "x.yaml");
  EXPECT_FALSE(spec.ok());
  EXPECT_NE(SpecReferenceText().find("Limits: "), std::string::npos);
}

TEST(SpecReference, TheCompleteExampleValidatesAndUsesEveryKey) {
  auto spec = ParseJobSpec(SpecExample(), "example.yaml");
  ASSERT_TRUE(spec.ok()) << spec.message();
  const std::string text = SpecExample();
  const SpecKeys& schema = AcceptedSpecKeys();
  for (const auto* level : {&schema.job, &schema.stack, &schema.card}) {
    for (std::string_view key : *level) {
      if (key == "node") continue;     // would pin the example to one worker's name
      if (key == "include") continue;  // would need a second file beside the example
      EXPECT_NE(text.find(std::string(key) + ":"), std::string::npos) << key;
    }
  }
}

TEST(Completion, ScriptsFollowTheAppsSubcommandsAndFlags) {
  CLI::App app{"test"};
  app.set_version_flag("--version", std::string("test 1"));
  std::string job, shell;
  bool flag = false;
  auto* alpha = app.add_subcommand("alpha", "The first one");
  alpha->add_option("JOB", job, "a job");
  alpha->add_flag("--beta", flag, "a flag");
  alpha->add_option("--gamma", shell, "a choice")->check(CLI::IsMember({"x", "y"}));
  app.add_subcommand("delta", "The second one");

  const std::string bash = BashCompletionScript(app);
  EXPECT_NE(bash.find("compgen -W \"alpha delta -h --help --version\""), std::string::npos) << bash;
  EXPECT_NE(bash.find("alpha) echo \"-h --help --beta --gamma\" ;;"), std::string::npos) << bash;
  EXPECT_NE(bash.find("\"alpha --gamma\") return 0 ;;"), std::string::npos) << bash;
  EXPECT_EQ(bash.find("\"alpha --beta\") return 0"), std::string::npos) << "a flag takes no value";
  EXPECT_NE(bash.find("\"alpha --gamma\") echo \"words x y\" ;;"), std::string::npos) << bash;
  EXPECT_NE(bash.find("\"alpha 0\") echo \"job\" ;;"), std::string::npos) << bash;
  EXPECT_NE(bash.find("complete -F _hollerith_complete_function hollerith"), std::string::npos);

  const std::string zsh = ZshCompletionScript(app);
  EXPECT_EQ(zsh.rfind("#compdef hollerith\n", 0), 0u);
  EXPECT_NE(zsh.find("'alpha:The first one'"), std::string::npos) << zsh;
  EXPECT_NE(zsh.find("'--gamma=[a choice]:value:(x y)'"), std::string::npos) << zsh;
  EXPECT_NE(zsh.find("'1:JOB:_hollerith_jobs'"), std::string::npos) << zsh;
}

TEST(PlainProgress, ACombineThatStartedAndEndedBetweenTwoUpdatesStillSaysWhereItRan) {
  JobProgress p;
  p.job = "j";
  p.stacks = {{.name = "A", .done = 1, .total = 1, .node = "w1", .state = "done"},
              {.name = "combine", .total = 1, .state = "waiting", .is_combine = true}};
  const std::string text = Captured([&](std::FILE* out) {
    ProgressPrinter printer(out);
    printer.Update(p);
    p.stacks[1].done = 1;
    p.stacks[1].node = "w2";
    p.stacks[1].state = "done";  // its start and its end came in one batch of events
    printer.Update(p, true);
  });
  const size_t waiting = text.find("] combine waiting to start\n");
  const size_t running = text.find("] combine running on w2\n");
  const size_t done = text.find("] combine done\n");
  ASSERT_NE(waiting, std::string::npos) << text;
  ASSERT_NE(running, std::string::npos) << text;
  ASSERT_NE(done, std::string::npos) << text;
  EXPECT_LT(waiting, running) << text;
  EXPECT_LT(running, done) << text;
  EXPECT_EQ(text.find("running", text.find("running", running) + 1), std::string::npos)
      << "said once\n"
      << text;
}

TEST(PlainProgress, ASkippedCombineThatNeverRanNamesNoNode) {
  JobProgress p;
  p.job = "j";
  p.stacks = {{.name = "A", .total = 1, .node = "w1", .state = "failed"},
              {.name = "combine", .total = 1, .state = "skipped", .is_combine = true}};
  const std::string text = Captured([&](std::FILE* out) { ProgressPrinter(out).Update(p, true); });
  EXPECT_NE(text.find("] combine skipped\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("combine running"), std::string::npos) << text;
}

}  // namespace
}  // namespace hollerith::cli
