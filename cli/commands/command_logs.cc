#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"

namespace hollerith::cli {
namespace {

void Write(std::FILE* out, std::string_view data) {
  std::fwrite(data.data(), 1, data.size(), out);
  std::fflush(out);
}

// The CLI's exit code for a card that ended: its own exit code, 1 when it failed without one
// (killed, timed out, an output missing) or never ran.
int ExitCodeOf(const v1::LogChunk& end) {
  if (end.state() == "succeeded") return 0;
  return end.exit_code() > 0 ? end.exit_code() : 1;
}

// Every card's output, line by line, each line prefixed with its card (as `docker-compose logs`).
class PrefixedLines {
 public:
  void Add(const v1::LogChunk& chunk) {
    const bool err = chunk.stream() == "stderr";
    std::string& pending = pending_[{chunk.card(), err}];
    if (chunk.card_ended()) {
      Flush(chunk.card(), false);
      Flush(chunk.card(), true);
      return;
    }
    pending += chunk.data();
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      Line(chunk.card(), err, std::string_view(pending).substr(start, nl - start));
    }
    pending.erase(0, start);
  }
  void FlushAll() {
    for (auto& [key, text] : pending_) {
      if (!text.empty()) Line(key.first, key.second, text);
      text.clear();
    }
  }

 private:
  void Flush(const std::string& card, bool err) {
    auto it = pending_.find({card, err});
    if (it == pending_.end()) return;
    if (!it->second.empty()) Line(card, err, it->second);
    pending_.erase(it);
  }
  void Line(const std::string& card, bool err, std::string_view text) {
    Write(err ? stderr : stdout, card + " | " + std::string(text) + "\n");
  }

  std::map<std::pair<std::string, bool>, std::string> pending_;
};

}  // namespace

void AddLogsCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "logs",
      "Print a card's stdout (its stderr goes to stderr); -f streams it as the card writes it and "
      "exits with the card's exit code. Without a card: every card of the job, each line "
      "prefixed with STACK.CARD, until the job ends (exit 0 if it succeeded, 1 if not)");
  auto cluster = std::make_shared<ClusterFlags>();
  auto job = std::make_shared<std::string>();
  auto card = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  cmd->add_option("JOB", *job, "Job id, or a job name unique among kept jobs")->required();
  cmd->add_option("CARD", *card, "STACK.CARD (or combine); none: every card of the job");
  cmd->add_flag("-f,--follow", *follow,
                "Stream the card's output as it is written, until the card ends");
  AddClusterFlags(cmd, *cluster);
  cmd->callback([=, &exit_code] {
    auto client = ConnectClient(*cluster);
    if (!client) {
      exit_code = 2;
      return;
    }
    int card_exit = 0;
    PrefixedLines lines;
    const bool whole_job = card->empty();
    Status s = client->ReadLogChunks(*job, *card, *follow, [&](const v1::LogChunk& chunk) {
      if (whole_job) {
        lines.Add(chunk);
      } else if (chunk.card_ended()) {
        card_exit = ExitCodeOf(chunk);
      } else {
        Write(chunk.stream() == "stderr" ? stderr : stdout, chunk.data());
      }
    });
    lines.FlushAll();
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      exit_code = 2;
      return;
    }
    if (!whole_job) {
      exit_code = *follow ? card_exit : 0;
      return;
    }
    auto status = client->GetJob(*job, {.results = false});  // its state alone
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.message().c_str());
      exit_code = 2;
      return;
    }
    exit_code = status->state() == "succeeded" ? 0 : 1;
  });
}

}  // namespace hollerith::cli
