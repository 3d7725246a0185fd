#include <cstdio>

#include "cli/commands/commands.h"
#include "common/spec/parser.h"

namespace hollerith::cli {

void AddValidateCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("validate", "Check a job spec: syntax, keys, references, cycles");
  auto file = std::make_shared<std::string>();
  cmd->add_option("FILE", *file, "Job spec (YAML or JSON)")->required();
  cmd->callback([file, &exit_code] {
    auto spec = LoadJobSpecFile(*file);
    if (!spec.ok()) {
      std::fprintf(stderr, "%s\n", spec.message().c_str());
      exit_code = 1;
      return;
    }
    size_t stacks = spec->stacks.size() - (spec->has_combine() ? 1 : 0);
    std::printf("%s: ok (job '%s', %zu stacks, %zu cards%s)\n", file->c_str(), spec->name.c_str(),
                stacks, spec->card_count(), spec->has_combine() ? ", with combine" : "");
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
