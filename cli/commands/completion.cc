#include "cli/commands/completion.h"

#include <cstdio>

#include "cli/commands/commands.h"

namespace hollerith::cli {
namespace {

// What a positional or a flag's value completes to.
enum class ValueKind { kFile, kJob, kCard, kWords };

struct Value {
  ValueKind kind = ValueKind::kFile;
  std::vector<std::string> words;  // kWords
};

struct FlagModel {
  std::vector<std::string> names;  // -h, --help
  std::string description;
  bool takes_value = false;
  Value value;
};

struct PositionalModel {
  std::string name;  // JOB, CARD, FILE, ...
  std::string description;
  Value value;
};

struct CommandModel {
  std::string name;
  std::string description;
  std::vector<FlagModel> flags;
  std::vector<PositionalModel> positionals;
};

// The choices of a CLI::IsMember check, which CLI11 shows in the type name: "TEXT:{bash,zsh}".
std::vector<std::string> Choices(const CLI::Option& option) {
  const std::string type = option.get_type_name();
  const size_t open = type.find(":{");
  const size_t close = type.find('}', open == std::string::npos ? 0 : open);
  std::vector<std::string> words;
  if (open == std::string::npos || close == std::string::npos) return words;
  std::string word;
  for (size_t i = open + 2; i <= close; ++i) {
    if (type[i] == ',' || type[i] == '}') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else if (type[i] != ' ') {
      word += type[i];
    }
  }
  return words;
}

Value ValueOf(const CLI::Option& option, const std::string& name) {
  Value v;
  v.words = Choices(option);
  if (!v.words.empty()) {
    v.kind = ValueKind::kWords;
  } else if (name == "JOB") {
    v.kind = ValueKind::kJob;
  } else if (name == "CARD") {
    v.kind = ValueKind::kCard;
  }
  return v;
}

CommandModel ModelOf(const CLI::App& app) {
  CommandModel m;
  m.name = app.get_name();
  m.description = app.get_description();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;  // hidden
    if (!opt->nonpositional()) {
      const std::string name = opt->get_name(true);
      m.positionals.push_back({name, opt->get_description(), ValueOf(*opt, name)});
      continue;
    }
    FlagModel f;
    for (const auto& s : opt->get_snames()) f.names.push_back("-" + s);
    for (const auto& l : opt->get_lnames()) f.names.push_back("--" + l);
    f.description = opt->get_description();
    f.takes_value = opt->get_items_expected_max() > 0;
    f.value = ValueOf(*opt, "");
    m.flags.push_back(std::move(f));
  }
  return m;
}

std::vector<CommandModel> SubcommandModels(const CLI::App& app) {
  std::vector<CommandModel> out;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_group().empty()) continue;  // hidden
    out.push_back(ModelOf(*sub));
  }
  return out;
}

std::string Join(const std::vector<std::string>& words, const char* sep = " ") {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : sep) + w;
  return out;
}

std::vector<std::string> FlagNames(const CommandModel& m) {
  std::vector<std::string> names;
  for (const auto& f : m.flags) names.insert(names.end(), f.names.begin(), f.names.end());
  return names;
}

// How a value completes, for the bash script's _hollerith_positional.
std::string BashKind(const Value& v) {
  switch (v.kind) {
    case ValueKind::kJob:
      return "job";
    case ValueKind::kCard:
      return "card";
    case ValueKind::kWords:
      return "words " + Join(v.words);
    case ValueKind::kFile:
      break;
  }
  return "file";
}

// Single-quoted for zsh (and sh): ' becomes '\''.
std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Text inside an _arguments spec's [...] or after the first ':' of a _describe entry (colons need
// no escaping in either).
std::string ZshDescription(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '[' || c == ']' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string ZshAction(const Value& v) {
  switch (v.kind) {
    case ValueKind::kJob:
      return "_hollerith_jobs";
    case ValueKind::kCard:
      return "_hollerith_cards";
    case ValueKind::kWords:
      return "(" + Join(v.words) + ")";
    case ValueKind::kFile:
      break;
  }
  return "_files";
}

}  // namespace

const std::vector<std::string>& CompletionShells() {
  static const std::vector<std::string> shells = {"bash", "zsh"};
  return shells;
}

std::string BashCompletionScript(const CLI::App& app) {
  const CommandModel root = ModelOf(app);
  const std::vector<CommandModel> subs = SubcommandModels(app);
  std::vector<std::string> root_words;
  for (const auto& s : subs) root_words.push_back(s.name);
  for (const auto& n : FlagNames(root)) root_words.push_back(n);

  std::string out;
  out +=
      "# bash completion for hollerith, generated by `hollerith completion bash`.\n"
      "# Use: source <(hollerith completion bash), or save it as\n"
      "# /etc/bash_completion.d/hollerith (or ~/.local/share/bash-completion/completions/"
      "hollerith).\n"
      "\n"
      "# Job ids and names, from the coordinator if it is reachable: $1 is the hollerith command,\n"
      "# the rest are --coordinator/--token-file flags from the command line.\n"
      "_hollerith_jobs() {\n"
      "  \"$1\" status --json \"${@:2}\" 2>/dev/null |\n"
      "    sed -n -e 's/^ *\"job_id\": *\"\\([^\"]*\\)\".*/\\1/p' "
      "-e 's/^ *\"name\": *\"\\([^\"]*\\)\".*/\\1/p'\n"
      "}\n"
      "\n"
      "# The STACK.CARD names of job $2 (the keys of \"cards\" in its result document).\n"
      "_hollerith_cards() {\n"
      "  [ -n \"$2\" ] || return 0\n"
      "  \"$1\" status \"$2\" --json \"${@:3}\" 2>/dev/null |\n"
      "    sed -n 's/^    \"\\([^\"]*\\)\": {.*/\\1/p'\n"
      "}\n"
      "\n"
      "# Whether flag $2 of subcommand $1 takes a value.\n"
      "_hollerith_takes_value() {\n"
      "  case \"$1 $2\" in\n";
  for (const auto& s : subs) {
    std::vector<std::string> patterns;
    for (const auto& f : s.flags) {
      if (!f.takes_value) continue;
      for (const auto& n : f.names) patterns.push_back("\"" + s.name + " " + n + "\"");
    }
    if (!patterns.empty()) out += "    " + Join(patterns, "|") + ") return 0 ;;\n";
  }
  out +=
      "  esac\n"
      "  return 1\n"
      "}\n"
      "\n"
      "# How the value of flag $2 of subcommand $1 completes: words W..., or a file.\n"
      "_hollerith_flag_value() {\n"
      "  case \"$1 $2\" in\n";
  for (const auto& s : subs) {
    for (const auto& f : s.flags) {
      if (!f.takes_value || f.value.kind == ValueKind::kFile) continue;
      std::vector<std::string> patterns;
      for (const auto& n : f.names) patterns.push_back("\"" + s.name + " " + n + "\"");
      out += "    " + Join(patterns, "|") + ") echo \"" + BashKind(f.value) + "\" ;;\n";
    }
  }
  out +=
      "    *) echo file ;;\n"
      "  esac\n"
      "}\n"
      "\n"
      "# The flags of subcommand $1.\n"
      "_hollerith_flags() {\n"
      "  case \"$1\" in\n";
  for (const auto& s : subs) out += "    " + s.name + ") echo \"" + Join(FlagNames(s)) + "\" ;;\n";
  out +=
      "  esac\n"
      "}\n"
      "\n"
      "# How positional $2 (from 0) of subcommand $1 completes: job, card, words W..., file, or\n"
      "# nothing.\n"
      "_hollerith_positional() {\n"
      "  case \"$1 $2\" in\n";
  for (const auto& s : subs) {
    for (size_t i = 0; i < s.positionals.size(); ++i) {
      out += "    \"" + s.name + " " + std::to_string(i) + "\") echo \"" +
             BashKind(s.positionals[i].value) + "\" ;;\n";
    }
  }
  out +=
      "  esac\n"
      "}\n"
      "\n"
      "_hollerith_reply() {  # $1: job, card, words W..., file; completes ${cur}\n"
      "  case \"$1\" in\n"
      "    job) mapfile -t COMPREPLY < <(compgen -W \"$(_hollerith_jobs \"$cmd\" "
      "\"${cluster[@]}\")\" -- \"$cur\") ;;\n"
      "    card) mapfile -t COMPREPLY < <(compgen -W \"$(_hollerith_cards \"$cmd\" \"${args[0]}\" "
      "\"${cluster[@]}\")\" -- \"$cur\") ;;\n"
      "    words\\ *) mapfile -t COMPREPLY < <(compgen -W \"${1#words }\" -- \"$cur\") ;;\n"
      "    file)\n"
      "      compopt -o filenames 2>/dev/null\n"
      "      mapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
      "  esac\n"
      "}\n"
      "\n"
      "_hollerith_complete_function() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" cmd=\"${COMP_WORDS[0]}\" sub=\"\" "
      "word i\n"
      "  local -a args=() cluster=()\n"
      "  [ \"$COMP_CWORD\" -gt 0 ] && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
      "  COMPREPLY=()\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    word=\"${COMP_WORDS[i]}\"\n"
      "    if [ -z \"$sub\" ]; then\n"
      "      case \"$word\" in -*) ;; *) sub=\"$word\" ;; esac\n"
      "      continue\n"
      "    fi\n"
      "    case \"$word\" in\n"
      "      --coordinator|--token-file)\n"
      "        cluster+=(\"$word\" \"${COMP_WORDS[i+1]}\")\n"
      "        i=$((i + 1)) ;;\n"
      "      -*) if _hollerith_takes_value \"$sub\" \"$word\"; then i=$((i + 1)); fi ;;\n"
      "      *) args+=(\"$word\") ;;\n"
      "    esac\n"
      "  done\n"
      "  if [ -z \"$sub\" ]; then\n"
      "    mapfile -t COMPREPLY < <(compgen -W \"" +
      Join(root_words) +
      "\" -- \"$cur\")\n"
      "    return 0\n"
      "  fi\n"
      "  if _hollerith_takes_value \"$sub\" \"$prev\"; then\n"
      "    _hollerith_reply \"$(_hollerith_flag_value \"$sub\" \"$prev\")\"\n"
      "    return 0\n"
      "  fi\n"
      "  case \"$cur\" in\n"
      "    -*) mapfile -t COMPREPLY < <(compgen -W \"$(_hollerith_flags \"$sub\")\" -- \"$cur\") "
      ";;\n"
      "    *) _hollerith_reply \"$(_hollerith_positional \"$sub\" \"${#args[@]}\")\" ;;\n"
      "  esac\n"
      "  return 0\n"
      "}\n"
      "\n"
      "complete -F _hollerith_complete_function hollerith\n";
  return out;
}

std::string ZshCompletionScript(const CLI::App& app) {
  const CommandModel root = ModelOf(app);
  const std::vector<CommandModel> subs = SubcommandModels(app);
  std::string out;
  out +=
      "#compdef hollerith\n"
      "# zsh completion for hollerith, generated by `hollerith completion zsh`.\n"
      "# Use: save it as _hollerith in a directory of $fpath, or source <(hollerith completion "
      "zsh)\n"
      "# after compinit.\n"
      "\n"
      "# --coordinator/--token-file as given on the command line, for the calls below.\n"
      "_hollerith_cluster_flags() {\n"
      "  local i\n"
      "  reply=()\n"
      "  for ((i = 2; i < CURRENT; i++)); do\n"
      "    case ${words[i]} in\n"
      "      --coordinator|--token-file) reply+=(${words[i]} ${words[i+1]}) ;;\n"
      "    esac\n"
      "  done\n"
      "}\n"
      "\n"
      "# Job ids and names, from the coordinator if it is reachable.\n"
      "_hollerith_jobs() {\n"
      "  local -a reply jobs\n"
      "  _hollerith_cluster_flags\n"
      "  jobs=(${(f)\"$(${words[1]} status --json $reply 2>/dev/null |\n"
      "    sed -n -e 's/^ *\"job_id\": *\"\\([^\"]*\\)\".*/\\1/p' "
      "-e 's/^ *\"name\": *\"\\([^\"]*\\)\".*/\\1/p')\"})\n"
      "  compadd -a jobs\n"
      "}\n"
      "\n"
      "# The STACK.CARD names of the job given before (the keys of \"cards\" in its result "
      "document).\n"
      "_hollerith_cards() {\n"
      "  local -a reply cards\n"
      "  local job=${line[1]}\n"
      "  [[ -n $job ]] || return 1\n"
      "  _hollerith_cluster_flags\n"
      "  cards=(${(f)\"$(${words[1]} status $job --json $reply 2>/dev/null |\n"
      "    sed -n 's/^    \"\\([^\"]*\\)\": {.*/\\1/p')\"})\n"
      "  compadd -a cards\n"
      "}\n"
      "\n"
      "_hollerith() {\n"
      "  local -a subcommands\n"
      "  subcommands=(\n";
  for (const auto& s : subs) {
    out += "    " + Quoted(s.name + ":" + ZshDescription(s.description)) + "\n";
  }
  out +=
      "  )\n"
      "  if (( CURRENT == 2 )); then\n"
      "    if [[ ${words[CURRENT]} == -* ]]; then\n"
      "      compadd -- " +
      Join(FlagNames(root)) +
      "\n"
      "    else\n"
      "      _describe -t commands 'hollerith subcommand' subcommands\n"
      "    fi\n"
      "    return\n"
      "  fi\n"
      "  local sub=${words[2]}\n"
      "  shift words\n"
      "  (( CURRENT-- ))\n"
      "  case $sub in\n";
  for (const auto& s : subs) {
    out += "    (" + s.name + ")\n      _arguments -s";
    for (const auto& f : s.flags) {
      for (const auto& n : f.names) {
        std::string spec = n + (f.takes_value && n.size() > 2 ? "=" : "") + "[" +
                           ZshDescription(f.description) + "]";
        if (f.takes_value) spec += ":value:" + ZshAction(f.value);
        out += " \\\n        " + Quoted(spec);
      }
    }
    for (size_t i = 0; i < s.positionals.size(); ++i) {
      const auto& p = s.positionals[i];
      out += " \\\n        " + Quoted(std::to_string(i + 1) + ":" + ZshDescription(p.name) + ":" +
                                      ZshAction(p.value));
    }
    out += "\n      ;;\n";
  }
  out +=
      "  esac\n"
      "}\n"
      "\n"
      "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
      "  _hollerith \"$@\"\n"
      "else\n"
      "  compdef _hollerith hollerith\n"
      "fi\n";
  return out;
}

void AddCompletionCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "completion", "Print a shell completion script: source <(hollerith completion bash)");
  auto shell = std::make_shared<std::string>();
  cmd->add_option("SHELL", *shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember(CompletionShells()));
  cmd->callback([&app, shell, &exit_code] {
    const std::string script =
        *shell == "bash" ? BashCompletionScript(app) : ZshCompletionScript(app);
    std::fputs(script.c_str(), stdout);
    exit_code = 0;
  });
}

}  // namespace hollerith::cli
