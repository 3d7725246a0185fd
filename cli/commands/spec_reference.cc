#include "cli/commands/spec_reference.h"

#include "common/spec/parser.h"

namespace hollerith::cli {

const std::vector<SpecLevelDoc>& SpecReference() {
  static const std::vector<SpecLevelDoc> levels = {
      {"job",
       "The top level of a spec file (YAML, or the same structure in JSON).",
       {
           {"name", "id (1-128 of A-Z a-z 0-9 _ -)", "required",
            "The job's name; `status`, `watch`, `logs` accept it where it is unique.",
            "name: report"},
           {"stacks", "map of stack id (1-64 of A-Z a-z 0-9 _ -) to a stack", "required",
            "The stacks of the job, at least one. Each runs on one worker, its cards in order.",
            "stacks:\n  A:\n    cards: [{id: fetch, run: ./fetch.sh}]"},
           {"include", "list of spec files, relative to this one", "none",
            "Files whose 'templates' and 'stacks' join this spec's (they may include others, "
            "hold nothing else, and define no id this spec or another included file does). "
            "Errors name the file they are in. `hollerith submit` reads them here and sends the "
            "coordinator one document. At most 16 deep and 256 files; a cycle is an error.",
            "include: [common/templates.yaml, stages/build.yaml]"},
           {"priority", "whole number from -1000 to 1000", "0",
            "Where stacks wait, those of a job with a higher priority go first: a worker gives "
            "its free slots to their cards before lower ones', and the coordinator places them "
            "first. Equal priorities keep their order. Nothing running is stopped for them.",
            "priority: 10"},
           {"tenant", "a tenant's name", "the submitting credential's name",
            "Whose fair share and quota the job counts against (the coordinator's --tenants). "
            "A credential may name itself or a tenant that lists it as a member; any other is "
            "refused. The cluster's shared token submits as 'default' and may name any.",
            "tenant: ml"},
           {"cache", "true or false", "false",
            "Whether the job's cards use the result cache (a stack's or a card's own 'cache' "
            "wins): a card whose cache key (its command, env, limits, inputs, declared outputs, "
            "the cards before it in its stack, cache_version) matches an earlier success is not "
            "run; that run's exit code and stdout are its result and its declared outputs are "
            "restored. The worker, time, network and the node's environment are not in the key: "
            "a card that depends on them must not be cached (docs/cache.md). Never the combine "
            "card's.",
            "cache: true"},
           {"cache_version", "string (at most 128 characters)", "none",
            "Part of the cache key of the job's cacheable cards (a stack's or a card's own "
            "wins): change it to make them run again, e.g. when a tool they use changes.",
            "cache_version: \"2\""},
           {"combine", "a card (the keys listed under 'combine' below)", "none",
            "A last card that runs after the last card of every stack, with every declared "
            "output at results/STACK.CARD/PATH and each card's stdout at "
            "results/STACK.CARD.stdout.",
            "combine:\n  run: cat results/A.sum.stdout"},
           {"templates", "map of template name to a template (the keys under 'template' below)",
            "none",
            "Stack bodies with named parameters, for stacks to 'uses:'. ${{ params.NAME }} in "
            "the template's values is replaced by the parameter's value. A template may not use "
            "another template (one level deep).",
            "templates:\n  test:\n    params: {suite: null, image: debian}\n    cards: [{id: "
            "run, run: \"./test ${{ params.suite }}\"}]"},
       }},
      {"stack",
       "The value of each entry of 'stacks'.",
       {
           {"node", "string (a worker's --name)", "any worker",
            "Place the stack on this worker only.", "node: gpu-1"},
           {"labels", "map of string to string", "none",
            "Place the stack only on a worker that has all of these labels (worker --labels).",
            "labels: {zone: eu, disk: ssd}"},
           {"resources", "map of cpu, memory and named resources to amounts", "{cpu: 1}",
            "What each card of the stack holds on its worker while it runs. The stack goes only "
            "to a worker that has this much (--resources; cpu and memory are detected), and its "
            "card starts once that much is free there. cpu in cpus (2, 0.5, 250m), memory as a "
            "size (4GiB, 512MiB, 4G = 10^9, 4Gi), others whole numbers. gpu: N gives the card N "
            "device indices of its own, in HOLLERITH_GPUS and CUDA_VISIBLE_DEVICES. A memory "
            "request is also each card's memory limit unless its limits: say otherwise. cpu "
            "stays 1 unless given (cpu: 0 asks for none).",
            "resources: {cpu: 2, memory: 4GiB, gpu: 1}"},
           {"cards", "list of cards", "required",
            "The cards of the stack, at least one; card k+1 starts after card k succeeded, in "
            "the same workspace.",
            "cards:\n  - id: build\n    run: make"},
           {"matrix", "map of key to a list of values, with optional include and exclude lists",
            "none",
            "One stack per combination of the values (the last key varying fastest), each with "
            "the id STACK-VALUE1-VALUE2 (characters outside A-Z a-z 0-9 _ - become _; an id "
            "over 64 characters is cut to 55 and ends with - and 8 hex digits of its FNV-1a "
            "hash). ${{ matrix.KEY }} in the stack's values is replaced by the combination's "
            "value ($X and ${X} are left for the shell; $${{ is a literal ${{). exclude: "
            "entries remove the combinations that have all their pairs; include: entries add "
            "their pairs to every combination they do not contradict, else are a new "
            "combination (GitHub Actions' rules). STACK.CARD in 'after' and 'inputs' names "
            "every instance (a fan-in); an input's file then arrives at "
            "INSTANCE/PATH. At most 32 keys, and the stacks times their cards at most the job's "
            "card limit. A run-time matrix, {from: STACK.CARD:PATH} (an output of that card "
            "holding a JSON list), makes one stack per item when that card succeeds: an item is "
            "a scalar (${{ matrix.item }}) or an object of scalars (${{ matrix.KEY }} each), "
            "substituted in run, env values, node, labels, outputs and inputs' dest; a stack "
            "that refers to it is placed once the instances exist; a bad list fails what waits "
            "for it, with the reason (docs/matrix.md).",
            "matrix:\n  os: [debian, alpine]\n  level: [1, 2]\n  exclude: [{os: alpine, level: "
            "2}]\n  include: [{os: alpine, extra: x}]"},
           {"uses", "a template name", "none",
            "Take the stack's keys from this template; the stack's own keys replace the "
            "template's.",
            "uses: test"},
           {"with", "map of parameter name to string", "the template's defaults",
            "Values of the template's parameters; one whose default is null must be given. May "
            "use ${{ matrix.KEY }}.",
            "with: {suite: unit}"},
           {"cache", "true or false", "the job's", "As for the job, for the stack's cards.",
            "cache: true"},
           {"cache_version", "string (at most 128 characters)", "the job's",
            "As for the job, for the stack's cards.", "cache_version: gcc-12"},
       }},
      {"card",
       "Each entry of a stack's 'cards'. A card is named STACK.CARD. Exactly one of 'run' and "
       "'builtin' is required.",
       {
           {"id", "id (1-64 of A-Z a-z 0-9 _ -), unique in its stack", "required",
            "The card's id; STACK.CARD names it in 'after', 'inputs', `logs`.", "id: fetch"},
           {"run", "string (a shell line, run by /bin/sh -c) or list of strings (argv, no shell)",
            "- (or 'builtin')", "The command, run in the stack's workspace.",
            "run: awk '{s+=$1} END {print s}' numbers.txt\nrun: [python3, train.py, --epochs, "
            "\"3\"]"},
           {"builtin", "noop | 'sleep DURATION' | {sleep: DURATION}", "- (or 'run')",
            "A built-in instead of a command, for tests and benchmarks: noop succeeds at once, "
            "sleep waits.",
            "builtin: noop\nbuiltin: {sleep: 2s}"},
           {"after", "list of STACK.CARD", "[]",
            "Start only after these cards of other stacks succeeded, wherever they ran. A "
            "matrix stack's base name means every one of its stacks.",
            "after: [A.sum]"},
           {"inputs", "list of STACK.CARD:PATH or {from: STACK.CARD:PATH, dest: DEST}", "[]",
            "Files another card declared in its 'outputs', copied into this card's workspace at "
            "PATH (or DEST) before it starts (implies 'after' on that card). A matrix stack's "
            "base name brings the file of every one of its stacks, each at INSTANCE/PATH.",
            "inputs: [A.fetch:numbers.txt, {from: build.compile:out.txt, dest: out/build.txt}]"},
           {"outputs", "list of workspace-relative paths (no '..', no leading '/')", "[]",
            "Files the card produces, published when it succeeds, for 'inputs' and combine.",
            "outputs: [numbers.txt, out/model.bin]"},
           {"env", "map of NAME (letters, digits, _) to string", "none",
            "Environment variables set for the command, on top of PATH, HOME and LANG (which it "
            "may replace); nothing else of the worker's environment reaches a card.",
            "env: {LANG: C, THREADS: \"4\"}"},
           {"timeout", "duration: a number and ms, s, m or h (500ms, 30s, 1.5m, 2h)", "none",
            "Kill the command after this long; the try fails.", "timeout: 30s"},
           {"retries", "whole number 0-100", "0",
            "How many times a failed card is tried again (with backoff) before its stack fails.",
            "retries: 2"},
           {"limits",
            "map with any of memory (size: 512MiB, 2GiB, 1GB), cpu (duration), files (1-1048576), "
            "processes (1-1048576)",
            "the worker's --default-limits",
            "Resource limits of the card's processes, enforced by the node with rlimits: memory "
            "(RLIMIT_DATA: heap and anonymous memory), cpu (RLIMIT_CPU, whole seconds, per "
            "process), files (descriptors open at once, per process), processes (RLIMIT_NPROC, "
            "counted per user by the kernel: all cards running as that user together). A card over "
            "a limit fails with the limit in its error, e.g. 'killed: cpu limit 60s exceeded'. "
            "Every card runs with only PATH (/usr/local/bin:/usr/bin:/bin), HOME (its workspace), "
            "LANG (C.UTF-8) and its 'env' in its environment, never the worker's; as a node "
            "started as root, it runs as the node's --run-as user.",
            "limits: {memory: 2GiB, cpu: 60s, files: 1024, processes: 256}"},
           {"cache", "true or false", "its stack's",
            "As for the job, for this card. A card after a card that is not cacheable, in the "
            "same stack, is not cacheable either. On a hit only its declared 'outputs' are "
            "restored: declare every file a later card reads.",
            "cache: false"},
           {"cache_version", "string (at most 128 characters)", "its stack's",
            "As for the job, for this card.", "cache_version: \"3\""},
       }},
      {"template",
       "The value of each entry of 'templates': a stack's keys (not 'uses' or 'with') and its "
       "parameters.",
       {
           {"params", "map of parameter name to a default string (null: required)", "none",
            "The template's parameters, used as ${{ params.NAME }} in its values.",
            "params: {suite: null, image: debian}"},
           {"node", "as for a stack", "any worker", "As for a stack.",
            "node: runner-${{ params.image }}"},
           {"labels", "as for a stack", "none", "As for a stack.", "labels: {zone: eu}"},
           {"cards", "as for a stack", "required", "As for a stack.",
            "cards: [{id: run, run: \"./test ${{ params.suite }}\"}]"},
           {"matrix", "as for a stack", "none", "As for a stack.",
            "matrix: {os: [debian, alpine]}"},
           {"resources", "as for a stack", "{cpu: 1}", "As for a stack.", "resources: {cpu: 2}"},
           {"cache", "as for a stack", "the job's", "As for a stack.", "cache: true"},
           {"cache_version", "as for a stack", "the job's", "As for a stack.", "cache_version: v2"},
       }},
      {"combine",
       "The value of the job's 'combine': a card that takes only these keys (it has no "
       "'after', 'inputs' or 'outputs': it follows every stack and receives every output; it is "
       "never cached).",
       {
           {"id", "id (1-64 of A-Z a-z 0-9 _ -)", "combine", "The combine card's name.",
            "id: summary"},
           {"run", "string or list of strings, as for a card", "- (or 'builtin')",
            "The command, run in a workspace holding results/.", "run: ./summarize.sh results"},
           {"builtin", "noop | 'sleep DURATION' | {sleep: DURATION}", "- (or 'run')",
            "A built-in, as for a card.", "builtin: noop"},
           {"timeout", "duration, as for a card", "none", "As for a card.", "timeout: 5m"},
           {"retries", "whole number 0-100", "0", "As for a card.", "retries: 1"},
           {"env", "map of NAME to string", "none", "As for a card.", "env: {FORMAT: csv}"},
           {"limits", "map, as for a card", "the worker's --default-limits", "As for a card.",
            "limits: {memory: 4GiB}"},
       }},
  };
  return levels;
}

namespace {

// Each line of `text` after the first, indented by `indent`.
std::string Indented(const std::string& text, const std::string& indent) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

// `text` as lines of at most `width` characters (words are not split), each after `indent`.
std::string Wrapped(const std::string& text, const std::string& indent, size_t width = 96) {
  std::string out = indent;
  size_t column = indent.size();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (column > indent.size() && column + 1 + word.size() > width) {
      out += "\n" + indent;
      column = indent.size();
    } else if (column > indent.size()) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    start = end + 1;
  }
  return out;
}

}  // namespace

const char* SpecExample() {
  return "name: report\n"
         "priority: 10\n"
         "tenant: default\n"
         "templates:\n"
         "  check:\n"
         "    params: {what: null}\n"
         "    cards: [{id: check, run: \"echo checking ${{ params.what }}\"}]\n"
         "stacks:\n"
         "  A:\n"
         "    cache: true\n"
         "    cache_version: \"1\"\n"
         "    cards:\n"
         "      - id: fetch\n"
         "        run: sh -c 'seq 1 1000 > numbers.txt'\n"
         "        outputs: [numbers.txt]\n"
         "      - id: sum\n"
         "        run: awk '{s+=$1} END {print s}' numbers.txt\n"
         "  B:\n"
         "    labels: {zone: eu}\n"
         "    resources: {cpu: 0.5, memory: 1GiB}\n"
         "    cards:\n"
         "      - id: double\n"
         "        after: [A.sum]\n"
         "        inputs: [A.fetch:numbers.txt]\n"
         "        run: awk '{s+=2*$1} END {print s}' numbers.txt\n"
         "        env: {LC_ALL: C}\n"
         "        timeout: 30s\n"
         "        retries: 2\n"
         "        limits: {memory: 2GiB, cpu: 60s, files: 1024, processes: 256}\n"
         "      - id: pause\n"
         "        builtin: {sleep: 100ms}\n"
         "  square:\n"
         "    matrix: {n: [2, 3], exclude: [{n: 3}], include: [{n: 4}]}\n"
         "    cards: [{id: sq, run: \"echo $((${{ matrix.n }} * ${{ matrix.n }})) > sq.txt\", "
         "outputs: [sq.txt]}]\n"
         "  sums:\n"
         "    uses: check\n"
         "    with: {what: squares}\n"
         "  total:\n"
         "    cards: [{id: add, inputs: [square.sq:sq.txt], run: \"cat */sq.txt\"}]\n"
         "combine:\n"
         "  run: sh -c 'echo $(cat results/A.sum.stdout) $(cat results/B.double.stdout)'\n";
}

std::string SpecLimitsText() {
  const SpecLimits limits;
  return "Limits: a spec file of at most " + std::to_string(limits.max_file_bytes >> 20) +
         " MiB (a coordinator takes at most 255 MiB in one submission: --max-spec-bytes); "
         "strings of at most " +
         std::to_string(limits.max_string_bytes >> 20) + " MiB; nesting at most " +
         std::to_string(limits.max_depth) + " levels deep; ids of 1-" +
         std::to_string(kMaxIdLength) + " characters, job names of 1-" +
         std::to_string(kMaxJobNameLength) +
         "; one document per file, no YAML aliases (*name); a matrix of at most 32 keys and "
         "1024 include or exclude entries, whose stacks times their cards, with the job's other "
         "cards, are at most " +
         std::to_string(limits.max_cards) +
         " (checked before any stack is made), and an expanded spec no larger than a spec file. "
         "A spec over a limit "
         "gets an error naming it; schema errors are listed all at once, at most 50 (then "
         "'and N more errors').";
}

std::string SpecReferenceText() {
  std::string out =
      "Hollerith job spec reference (YAML or JSON; `hollerith validate FILE` checks a spec).\n";
  for (const auto& level : SpecReference()) {
    out += "\n" + Wrapped(std::string(level.title) + " keys: " + level.intro, "") + "\n";
    for (const auto& k : level.keys) {
      out += "\n  " + std::string(k.key) + "\n";
      out += "    type:    " + std::string(k.type) + "\n";
      out += "    default: " + std::string(k.default_value) + "\n";
      out += Wrapped(k.meaning, "    ") + "\n";
      out += "    example: " + Indented(k.example, "             ") + "\n";
    }
  }
  out += "\n" + Wrapped(SpecLimitsText(), "") + "\n";
  out += "\nA complete spec:\n\n  " + Indented(SpecExample(), "  ");
  out.erase(out.find_last_not_of(' ') + 1);
  return out;
}

}  // namespace hollerith::cli
