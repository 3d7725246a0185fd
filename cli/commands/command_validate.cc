#include <cstdio>
#include <string>

#include "cli/commands/commands.h"
#include "common/spec/parser.h"

namespace hollerith::cli {

void AddValidateCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("validate", "Check a job spec: syntax, keys, references, cycles");
  auto file = std::make_shared<std::string>();
  auto expand = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("FILE", *file, "Job spec (YAML or JSON)")->required();
  auto* expand_flag = cmd->add_flag(
      "--expand", *expand,
      "Print the job with its templates applied and matrix stacks written out: a spec "
      "that parses to the same job");
  cmd->add_flag("--json", *json, "With --expand: print JSON instead of YAML")->needs(expand_flag);
  cmd->callback([file, expand, json, &exit_code] {
    exit_code = 1;
    if (*expand) {
      auto text = ReadSpecFile(*file);
      const SpecFileReader includes = DiskSpecFiles();
      auto expanded =
          text.ok() ? ExpandJobSpec(*text, *file, *json ? SpecFormat::kJson : SpecFormat::kYaml, {},
                                    &includes)
                    : Result<std::string>(text.status());
      if (!expanded.ok()) {
        std::fprintf(stderr, "%s\n", expanded.message().c_str());
        return;
      }
      std::fwrite(expanded->data(), 1, expanded->size(), stdout);
      exit_code = 0;
      return;
    }
    auto spec = LoadJobSpecFile(*file);
    if (!spec.ok()) {
      std::fprintf(stderr, "%s\n", spec.message().c_str());
      return;
    }
    size_t stacks = spec->stacks.size() - (spec->has_combine() ? 1 : 0);
    std::string run_time;  // run-time matrix stacks: how many, and what they wait for
    for (const StackSpec& s : spec->stacks) {
      if (!s.is_template()) continue;
      --stacks;
      run_time += ", stack " + s.id + " made at run time from " +
                  spec->card_name(s.fanout->source) + ":" + s.fanout->path;
    }
    std::printf("%s: ok (job '%s', %zu stacks, %zu cards%s%s)\n", file->c_str(), spec->name.c_str(),
                stacks, spec->card_count(), spec->has_combine() ? ", with combine" : "",
                run_time.c_str());
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
