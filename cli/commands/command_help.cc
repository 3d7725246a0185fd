#include <cstdio>

#include "cli/commands/commands.h"
#include "cli/commands/spec_reference.h"

namespace hollerith::cli {

void AddHelpCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "help", "Reference pages: `hollerith help spec` lists every key of a job spec");
  auto topic = std::make_shared<std::string>();
  cmd->add_option("TOPIC", *topic, "spec (without one: the commands)")
      ->check(CLI::IsMember({"spec"}));
  cmd->callback([&app, topic, &exit_code] {
    if (topic->empty()) {
      // Not app.help(): during a parse, that is the help of the subcommand being run (this one).
      const std::string help =
          app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
      std::fputs(help.c_str(), stdout);
      std::fputs("\nTopics: hollerith help spec (the job spec reference)\n", stdout);
    } else {
      std::fputs(SpecReferenceText().c_str(), stdout);
    }
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
