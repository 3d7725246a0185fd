// The result cache as users meet it: `cache: true` cards of a local run (`run --cache-dir`) and of
// a cluster (`submit`) are taken from the cache when nothing they observe changed, and run again
// exactly when something did: the card whose command, env, limits, declared outputs or
// cache_version changed, the later cards of its stack and every card whose inputs changed with
// it. A hit restores the card's outputs (later cards of the stack and other stacks read them);
// failures are never kept; entries survive a kill -9 of the coordinator and stay with their tenant.
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace hollerith::testing {
namespace {

using Names = std::set<std::string>;

nlohmann::json Parse(const CommandResult& r) {
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  return doc.is_discarded() ? nlohmann::json::object() : doc;
}

// `hollerith run SPEC --json --cache-dir DIR ARGS...` (workspaces in a temp dir of their own).
nlohmann::json RunCached(const std::string& spec, const std::string& cache_dir,
                         CommandResult* raw = nullptr, const std::vector<std::string>& args = {}) {
  std::vector<std::string> all = {"--json", "--cache-dir", cache_dir};
  all.insert(all.end(), args.begin(), args.end());
  CommandResult r = RunLocal(spec, all);
  nlohmann::json doc = Parse(r);
  if (raw) *raw = std::move(r);
  return doc;
}

// The cache note of a card ("" when it has none: the card is not cacheable).
std::string Note(nlohmann::json doc, const std::string& card) {
  const nlohmann::json c = doc["cards"][card];
  return c.is_object() ? c.value("cache", "") : "";
}

// The cards whose cache note starts with `prefix` ("hit: ", "miss: ").
Names CardsNoted(const nlohmann::json& doc, const std::string& prefix) {
  Names names;
  nlohmann::json cards = doc.value("cards", nlohmann::json::object());
  for (const auto& [name, card] : cards.items()) {
    if (card.value("cache", "").starts_with(prefix)) names.insert(name);
  }
  return names;
}

// The cards with no cache note at all.
Names CardsWithoutNote(const nlohmann::json& doc) {
  Names names;
  nlohmann::json cards = doc.value("cards", nlohmann::json::object());
  for (const auto& [name, card] : cards.items()) {
    if (!card.contains("cache")) names.insert(name);
  }
  return names;
}

// The cards that carry `cached_from` (were taken from the cache), with its value.
std::map<std::string, std::string> CachedFrom(const nlohmann::json& doc) {
  std::map<std::string, std::string> from;
  nlohmann::json cards = doc.value("cards", nlohmann::json::object());
  for (const auto& [name, card] : cards.items()) {
    if (card.contains("cached_from")) from[name] = card["cached_from"].get<std::string>();
  }
  return from;
}

std::map<std::string, std::string> Each(const Names& names, const std::string& value) {
  std::map<std::string, std::string> out;
  for (const std::string& n : names) out[n] = value;
  return out;
}

// Every card succeeded, with its result (stdout, outputs) the same in both documents.
void ExpectSameResults(nlohmann::json now, nlohmann::json before, const Names& cards) {
  for (const std::string& card : cards) {
    SCOPED_TRACE(card);
    EXPECT_EQ(now["cards"][card]["state"], "succeeded") << now.dump(2);
    EXPECT_EQ(now["cards"][card]["exit_code"], before["cards"][card]["exit_code"]);
    EXPECT_EQ(now["cards"][card]["stdout"], before["cards"][card]["stdout"]);
    EXPECT_EQ(now["cards"][card]["outputs"], before["cards"][card]["outputs"]);
  }
}

// The cards with a `card_cached` event in a Chrome trace, with the job named in its detail.
std::map<std::string, std::string> CachedInTrace(const std::string& path) {
  std::ifstream in(path);
  const auto trace = nlohmann::json::parse(in, nullptr, false);
  std::map<std::string, std::string> cached;
  if (trace.is_discarded()) return cached;
  nlohmann::json events = trace.value("traceEvents", nlohmann::json::array());
  for (const auto& e : events) {
    nlohmann::json args = e.value("args", nlohmann::json::object());
    if (args.value("kind", "") == "card_cached") {
      cached[args.value("card", "?")] = args.value("detail", "");
    }
  }
  return cached;
}

// A small Montage-like mosaic: two projections (each a "project" card and a "background" card
// that reads the projection in its workspace), a diff of both backgrounds, a mosaic of the diff;
// `side.count` reads p2's projection. mosaic.stamp is not cacheable, so neither is mosaic.shrink
// after it (it reads mosaic.add's output from the stack's workspace).
std::string MontageSpec(const std::string& tile_one, const std::string& p2_says) {
  return R"(name: montage
cache: true
stacks:
  p1:
    cards:
      - id: project
        run: |
          printf '%s\n' ')" +
         tile_one + R"(' > p1.img
          echo projected p1
        outputs: [p1.img]
      - id: background
        run: |
          tr a-z A-Z < p1.img > p1.bg
          cat p1.bg
        outputs: [p1.bg]
  p2:
    cards:
      - id: project
        run: |
          printf '%s\n' 'tile two' > p2.img
          echo )" +
         p2_says + R"(
        outputs: [p2.img]
      - id: background
        run: |
          tr a-z A-Z < p2.img > p2.bg
          cat p2.bg
        outputs: [p2.bg]
  diff:
    cards:
      - id: diff
        inputs: [p1.background:p1.bg, p2.background:p2.bg]
        run: |
          cat p1.bg p2.bg > diff.txt
          wc -l < diff.txt
        outputs: [diff.txt]
  mosaic:
    cards:
      - id: add
        inputs: [diff.diff:diff.txt]
        run: |
          sort -r diff.txt > mosaic.txt
          cat mosaic.txt
        outputs: [mosaic.txt]
      - id: stamp
        cache: false
        run: date +%s%N
      - id: shrink
        cache: true
        run: wc -c < mosaic.txt
  side:
    cards:
      - id: count
        inputs: [p2.project:p2.img]
        run: wc -c < p2.img
)";
}

const Names kMontageCacheable = {"p1.project", "p1.background", "p2.project", "p2.background",
                                 "diff.diff",  "mosaic.add",    "side.count"};
const Names kMontageNotCacheable = {"mosaic.stamp", "mosaic.shrink"};

TEST(Cache, LocalRunsHitEveryUnchangedCardAndMissExactlyWhatAChangeReaches) {
  TempDir dir;
  const std::string cache = dir.path() + "/cache";
  const std::string spec = dir.Write("montage.yaml", MontageSpec("tile one", "projected p2"));

  CommandResult r;
  nlohmann::json first = RunCached(spec, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(first["cards"]["mosaic.add"]["stdout"], "TILE TWO\nTILE ONE\n") << first.dump(2);
  EXPECT_EQ(first["cards"]["mosaic.shrink"]["stdout"], "18\n");
  EXPECT_EQ(CardsNoted(first, "miss: no entry for this card yet"), kMontageCacheable)
      << first.dump(2);
  EXPECT_EQ(CardsWithoutNote(first), kMontageNotCacheable) << first.dump(2);
  EXPECT_TRUE(CachedFrom(first).empty()) << first.dump(2);

  // Again: every cacheable card is a hit with the same results; the others run.
  const std::string trace = dir.path() + "/second.trace.json";
  nlohmann::json second = RunCached(spec, cache, &r, {"--trace", trace});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(CardsNoted(second, "hit: "), kMontageCacheable) << second.dump(2);
  EXPECT_EQ(CardsWithoutNote(second), kMontageNotCacheable) << second.dump(2);
  EXPECT_EQ(CachedFrom(second).size(), kMontageCacheable.size()) << second.dump(2);
  ExpectSameResults(second, first, kMontageCacheable);
  // mosaic.stamp ran (a fresh time), and mosaic.shrink ran on mosaic.add's restored output.
  EXPECT_EQ(second["cards"]["mosaic.stamp"]["state"], "succeeded");
  EXPECT_NE(second["cards"]["mosaic.stamp"]["stdout"], first["cards"]["mosaic.stamp"]["stdout"]);
  EXPECT_EQ(second["cards"]["mosaic.shrink"]["stdout"], "18\n") << second.dump(2);
  // The trace has a card_cached event for each hit and verifies against the spec.
  std::map<std::string, std::string> traced = CachedInTrace(trace);
  Names traced_cards;
  for (const auto& [card, detail] : traced) traced_cards.insert(card);
  EXPECT_EQ(traced_cards, kMontageCacheable);
  const CommandResult verified = RunCommand({kHollerith, "verify", trace, "--spec", spec});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // The card table shows hits as "cached", with a CACHE column.
  const CommandResult table =
      RunLocal(spec, {"--cache-dir", cache});  // the same job a third time, as a table
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::istringstream lines(table.out);
  std::string header, row;
  std::getline(lines, header);
  EXPECT_NE(header.find("CACHE"), std::string::npos) << table.out;
  std::map<std::string, std::string> states;
  while (std::getline(lines, row)) {
    std::istringstream words(row);
    std::string card, state;
    if (words >> card >> state) states[card] = state;
  }
  EXPECT_EQ(states["p1.project"], "cached") << table.out;
  EXPECT_EQ(states["mosaic.add"], "cached") << table.out;
  EXPECT_EQ(states["mosaic.stamp"], "succeeded") << table.out;

  // p1's projection changes: it, the later card of its stack, the diff that reads p1's
  // background and the mosaic that reads the diff run again; p2, the side stack hit.
  const std::string changed = dir.Write("changed.yaml", MontageSpec("tile uno", "projected p2"));
  nlohmann::json third = RunCached(changed, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const Names reached = {"p1.project", "p1.background", "diff.diff", "mosaic.add"};
  EXPECT_EQ(CardsNoted(third, "miss: "), reached) << third.dump(2);
  EXPECT_EQ(CardsNoted(third, "hit: "), (Names{"p2.project", "p2.background", "side.count"}))
      << third.dump(2);
  EXPECT_EQ(CardsWithoutNote(third), kMontageNotCacheable);
  EXPECT_TRUE(Note(third, "p1.project").starts_with("miss: command changed since job "))
      << Note(third, "p1.project");
  EXPECT_TRUE(Note(third, "p1.background").starts_with("miss: earlier cards changed since job "))
      << Note(third, "p1.background");
  EXPECT_TRUE(Note(third, "diff.diff").starts_with("miss: inputs changed since job "))
      << Note(third, "diff.diff");
  EXPECT_TRUE(Note(third, "mosaic.add").starts_with("miss: inputs changed since job "))
      << Note(third, "mosaic.add");
  for (const std::string& card : reached)
    EXPECT_FALSE(third["cards"][card].contains("cached_from"));
  // Fresh results, built on p2's restored files.
  EXPECT_EQ(third["cards"]["p1.background"]["stdout"], "TILE UNO\n");
  EXPECT_EQ(third["cards"]["mosaic.add"]["stdout"], "TILE UNO\nTILE TWO\n") << third.dump(2);
  EXPECT_EQ(third["cards"]["mosaic.shrink"]["stdout"], "18\n");
  EXPECT_NE(third["cards"]["diff.diff"]["outputs"], first["cards"]["diff.diff"]["outputs"]);
  ExpectSameResults(third, first, {"p2.project", "p2.background", "side.count"});

  // Only p2.project's stdout changes, not its file: p2's cards run again (the background's
  // workspace follows a changed card) but what reads p2's files hits: inputs are their digests.
  // p1 is back as it was first: its entries are still there.
  const std::string says = dir.Write("says.yaml", MontageSpec("tile one", "p2 projected"));
  nlohmann::json fourth = RunCached(says, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(CardsNoted(fourth, "miss: "), (Names{"p2.project", "p2.background"})) << fourth.dump(2);
  EXPECT_TRUE(Note(fourth, "p2.project").starts_with("miss: command changed since job "))
      << Note(fourth, "p2.project");
  EXPECT_TRUE(Note(fourth, "p2.background").starts_with("miss: earlier cards changed since job "))
      << Note(fourth, "p2.background");
  EXPECT_EQ(CardsNoted(fourth, "hit: "),
            (Names{"p1.project", "p1.background", "diff.diff", "mosaic.add", "side.count"}))
      << fourth.dump(2);
  EXPECT_EQ(fourth["cards"]["p2.project"]["stdout"], "p2 projected\n");
  EXPECT_EQ(fourth["cards"]["p2.project"]["outputs"], first["cards"]["p2.project"]["outputs"]);
  ExpectSameResults(fourth, first, {"p1.project", "p1.background", "diff.diff", "mosaic.add"});
}

// A card whose key parts are set by the spec, and a card after it in its stack.
std::string PartsSpec(const std::string& run, const std::string& greeting, const std::string& files,
                      const std::string& version, const std::string& outputs) {
  return "name: parts\nstacks:\n  s:\n    cards:\n      - id: c\n        cache: true\n"
         "        env: {GREETING: " +
         greeting + "}\n        limits: {files: " + files + "}\n        cache_version: " + version +
         "\n        run: " + run + "\n        outputs: [" + outputs +
         "]\n      - id: next\n        cache: true\n        run: cat a.txt\n";
}

TEST(Cache, EachPartOfTheKeyChangedAloneMissesAndIsNamed) {
  const std::string run = "echo \"$GREETING\" > a.txt; echo more > b.txt; cat a.txt";
  const std::string base = PartsSpec(run, "hello", "1024", "v1", "a.txt");
  struct Variant {
    std::string part;
    std::string spec;
    std::string stdout_text;  // of s.c
  };
  const std::vector<Variant> variants = {
      {"command", PartsSpec(run + "; echo changed", "hello", "1024", "v1", "a.txt"),
       "hello\nchanged\n"},
      {"env", PartsSpec(run, "bonjour", "1024", "v1", "a.txt"), "bonjour\n"},
      {"limits", PartsSpec(run, "hello", "2048", "v1", "a.txt"), "hello\n"},
      {"cache_version", PartsSpec(run, "hello", "1024", "v2", "a.txt"), "hello\n"},
      {"outputs", PartsSpec(run, "hello", "1024", "v1", "a.txt, b.txt"), "hello\n"},
  };
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.part);
    TempDir dir;
    const std::string cache = dir.path() + "/cache";
    const std::string base_spec = dir.Write("base.yaml", base);
    CommandResult r;
    nlohmann::json first = RunCached(base_spec, cache, &r);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(CardsNoted(first, "miss: no entry for this card yet"), (Names{"s.c", "s.next"}));
    nlohmann::json again = RunCached(base_spec, cache, &r);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(CardsNoted(again, "hit: "), (Names{"s.c", "s.next"})) << again.dump(2);

    const std::string variant_spec = dir.Write("variant.yaml", v.spec);
    nlohmann::json changed = RunCached(variant_spec, cache, &r);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_TRUE(Note(changed, "s.c").starts_with("miss: " + v.part + " changed since job "))
        << Note(changed, "s.c");
    EXPECT_TRUE(Note(changed, "s.next").starts_with("miss: earlier cards changed since job "))
        << Note(changed, "s.next");
    EXPECT_TRUE(CachedFrom(changed).empty()) << changed.dump(2);
    EXPECT_EQ(changed["cards"]["s.c"]["stdout"], v.stdout_text) << changed.dump(2);
    Names outputs;
    for (const auto& [path, digest] : changed["cards"]["s.c"]["outputs"].items()) {
      outputs.insert(path);
    }
    EXPECT_EQ(outputs, (v.part == "outputs" ? Names{"a.txt", "b.txt"} : Names{"a.txt"}));

    // The variant is kept in its turn; the base's entries are still there.
    nlohmann::json variant_again = RunCached(variant_spec, cache, &r);
    EXPECT_EQ(CardsNoted(variant_again, "hit: "), (Names{"s.c", "s.next"}))
        << variant_again.dump(2);
    nlohmann::json base_again = RunCached(base_spec, cache, &r);
    EXPECT_EQ(CardsNoted(base_again, "hit: "), (Names{"s.c", "s.next"})) << base_again.dump(2);
    EXPECT_EQ(base_again["cards"]["s.c"]["stdout"], "hello\n");
  }
}

TEST(Cache, AFailedCardIsNeverCached) {
  TempDir dir;
  const std::string cache = dir.path() + "/cache";
  const std::string shared = dir.SharedDir("shared");
  auto spec_with = [&](const std::string& exit) {
    return "name: failing\ncache: true\nstacks:\n  ok:\n    cards:\n"
           "      - {id: fine, run: echo fine}\n"
           "  bad:\n    cards:\n      - id: boom\n        run: |\n          echo tried >> " +
           shared + "/boom.count\n          echo trying\n          exit " + exit + "\n";
  };
  const std::string spec = dir.Write("failing.yaml", spec_with("1"));
  for (int run = 1; run <= 2; ++run) {
    SCOPED_TRACE(run);
    CommandResult r;
    nlohmann::json doc = RunCached(spec, cache, &r);
    EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
    EXPECT_EQ(doc["state"], "failed") << doc.dump(2);
    EXPECT_EQ(doc["cards"]["bad.boom"]["state"], "failed");
    EXPECT_EQ(doc["cards"]["bad.boom"]["exit_code"], 1);
    EXPECT_EQ(doc["cards"]["bad.boom"]["stdout"], "trying\n");
    EXPECT_EQ(Note(doc, "bad.boom"), "miss: no entry for this card yet");
    EXPECT_FALSE(doc["cards"]["bad.boom"].contains("cached_from"));
    // The success beside it is kept though its job failed.
    EXPECT_EQ(Note(doc, "ok.fine"),
              run == 1 ? "miss: no entry for this card yet" : "hit: job local")
        << doc.dump(2);
  }
  EXPECT_EQ(ReadAll(shared + "/boom.count"), "tried\ntried\n") << "the failed card ran both times";

  // Once fixed it runs, finds nothing kept of its failures, and is kept from then on.
  const std::string fixed = dir.Write("fixed.yaml", spec_with("0"));
  CommandResult r;
  nlohmann::json now = RunCached(fixed, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Note(now, "bad.boom"), "miss: no entry for this card yet") << now.dump(2);
  nlohmann::json then = RunCached(fixed, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(Note(then, "bad.boom").starts_with("hit: ")) << then.dump(2);
  EXPECT_EQ(ReadAll(shared + "/boom.count"), "tried\ntried\ntried\n");
}

TEST(Cache, ALaterCardOfTheStackSeesTheOutputsOfACachedCard) {
  TempDir dir;
  const std::string cache = dir.path() + "/cache";
  const std::string shared = dir.SharedDir("shared");
  // write's content differs at every real run: a hit must give the first run's file back.
  const std::string spec =
      dir.Write("stack.yaml",
                "name: stacked\nstacks:\n  s:\n    cards:\n"
                "      - id: write\n        cache: true\n"
                "        run: date +%s%N > out.txt\n"
                "        outputs: [out.txt]\n"
                "      - id: read\n        cache: false\n"
                "        run: |\n          cat out.txt\n          echo ran >> " +
                    shared + "/read.count\n");
  CommandResult r;
  nlohmann::json first = RunCached(spec, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const std::string content = first["cards"]["s.read"]["stdout"];
  ASSERT_FALSE(content.empty()) << first.dump(2);
  nlohmann::json second = RunCached(spec, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(Note(second, "s.write").starts_with("hit: ")) << second.dump(2);
  EXPECT_EQ(second["cards"]["s.write"]["outputs"], first["cards"]["s.write"]["outputs"]);
  EXPECT_FALSE(second["cards"]["s.read"].contains("cache")) << second.dump(2);
  EXPECT_EQ(second["cards"]["s.read"]["state"], "succeeded") << second.dump(2);
  EXPECT_EQ(second["cards"]["s.read"]["stdout"], content) << second.dump(2);
  EXPECT_EQ(ReadAll(shared + "/read.count"), "ran\nran\n") << "s.read ran both times";
}

TEST(Cache, ADamagedLocalEntryIsAMissAndTheCardRunsAgain) {
  TempDir dir;
  const std::string cache = dir.path() + "/cache";
  const std::string spec =
      dir.Write("parts.yaml",
                PartsSpec("echo \"$GREETING\" > a.txt; cat a.txt", "hello", "1024", "v1", "a.txt"));
  CommandResult r;
  nlohmann::json first = RunCached(spec, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  // The cache's files (DIR/artifacts/) are gone; its entries (DIR/cache.db) are not.
  size_t removed = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(cache + "/artifacts")) {
    if (f.is_regular_file()) removed += std::filesystem::remove(f.path()) ? 1 : 0;
  }
  ASSERT_EQ(removed, 1u);
  // The run still prints its result document alone on stdout (warnings go elsewhere).
  nlohmann::json damaged = RunCached(spec, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  ASSERT_TRUE(damaged.contains("cards")) << "stdout is not the result document:\n" << r.out;
  EXPECT_TRUE(Note(damaged, "s.c").starts_with("miss: the entry was damaged")) << damaged.dump(2);
  EXPECT_FALSE(damaged["cards"]["s.c"].contains("cached_from"));
  EXPECT_EQ(damaged["cards"]["s.c"]["stdout"], "hello\n");
  EXPECT_EQ(damaged["cards"]["s.c"]["outputs"], first["cards"]["s.c"]["outputs"]);
  EXPECT_EQ(damaged["cards"]["s.next"]["stdout"], "hello\n") << damaged.dump(2);
  // The fresh result is kept again.
  nlohmann::json again = RunCached(spec, cache, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(CardsNoted(again, "hit: "), (Names{"s.c", "s.next"})) << again.dump(2);
}

// A job for the cluster: make.data's file crosses to the use stack; use.stamp is not cacheable.
const char* kClusterSpec = R"(name: cached
cache: true
stacks:
  make:
    cards:
      - id: data
        run: |
          seq 1 100 > numbers.txt
          echo made
        outputs: [numbers.txt]
      - id: last
        run: tail -n 1 numbers.txt
  use:
    cards:
      - id: reverse
        inputs: [make.data:numbers.txt]
        run: |
          sort -rn numbers.txt > reversed.txt
          head -n 1 reversed.txt
        outputs: [reversed.txt]
      - id: count
        run: wc -l < reversed.txt
      - id: stamp
        cache: false
        run: date +%s%N
)";
const Names kClusterCacheable = {"make.data", "make.last", "use.reverse", "use.count"};

// `submit SPEC --wait --json ARGS...` through `cli`; the result document.
template <typename Cli>
nlohmann::json SubmitJson(const Cli& cli, const std::string& spec,
                          const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv = {"submit", spec, "--wait", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = cli(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  return Parse(r);
}

void ExpectFreshRun(nlohmann::json doc, const std::string& note) {
  EXPECT_EQ(doc["state"], "succeeded") << doc.dump(2);
  EXPECT_EQ(CardsNoted(doc, note), kClusterCacheable) << doc.dump(2);
  EXPECT_EQ(CardsWithoutNote(doc), Names{"use.stamp"}) << doc.dump(2);
  EXPECT_TRUE(CachedFrom(doc).empty()) << doc.dump(2);
  EXPECT_EQ(doc["cards"]["make.last"]["stdout"], "100\n");
  EXPECT_EQ(doc["cards"]["use.reverse"]["stdout"], "100\n");
  EXPECT_EQ(doc["cards"]["use.count"]["stdout"], "100\n");
}

void ExpectAllHit(nlohmann::json doc, nlohmann::json fresh, const std::string& from) {
  EXPECT_EQ(doc["state"], "succeeded") << doc.dump(2);
  EXPECT_EQ(CardsNoted(doc, "hit: job " + from), kClusterCacheable) << doc.dump(2);
  EXPECT_EQ(CachedFrom(doc), Each(kClusterCacheable, from)) << doc.dump(2);
  EXPECT_EQ(CardsWithoutNote(doc), Names{"use.stamp"}) << doc.dump(2);
  ExpectSameResults(doc, fresh, kClusterCacheable);
  EXPECT_EQ(doc["cards"]["use.stamp"]["state"], "succeeded");
  EXPECT_NE(doc["cards"]["use.stamp"]["stdout"], fresh["cards"]["use.stamp"]["stdout"])
      << "use.stamp ran again";
}

TEST(Cache, ClusterHitsSurviveKillNineAndFollowNoCacheAndReadOnly) {
  TestCluster cluster({{"w1", ""}, {"w2", ""}});
  const std::string spec = cluster.data_dir() + "/cached.yaml";
  std::ofstream(spec) << kClusterSpec;
  auto cli = [&](const std::vector<std::string>& args) { return cluster.Cli(args); };

  nlohmann::json first = SubmitJson(cli, spec);
  ExpectFreshRun(first, "miss: no entry for this card yet");
  const std::string first_id = first.value("job_id", "");
  ASSERT_FALSE(first_id.empty()) << first.dump(2);

  nlohmann::json second = SubmitJson(cli, spec);
  ExpectAllHit(second, first, first_id);
  const std::string second_id = second.value("job_id", "");
  ASSERT_NE(second_id, first_id);
  // `status --json` says the same as the submit did.
  nlohmann::json status = Parse(cluster.Cli({"status", second_id, "--json"}));
  EXPECT_EQ(status["cards"], second["cards"]) << status.dump(2);
  // Its trace: a card_cached event per hit, naming the first job; it verifies.
  const std::string trace = cluster.data_dir() + "/second.trace.json";
  const CommandResult traced = cluster.Cli({"trace", second_id, "-o", trace});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(CachedInTrace(trace), Each(kClusterCacheable, first_id));
  const CommandResult verified = RunCommand({kHollerith, "verify", trace, "--spec", spec});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // The entries are in DATA_DIR/cache.db: a kill -9 loses none.
  cluster.RestartCoordinator(SIGKILL);
  ASSERT_TRUE(cluster.WaitForWorkers({"w1", "w2"}));
  nlohmann::json after_crash = SubmitJson(cli, spec);
  ExpectAllHit(after_crash, first, first_id);

  // --no-cache runs every card and refreshes the entries; --cache read-only uses them.
  nlohmann::json refreshed = SubmitJson(cli, spec, {"--no-cache"});
  ExpectFreshRun(refreshed, "miss: --no-cache (the entry is refreshed)");
  EXPECT_EQ(Note(refreshed, "make.data"), "miss: --no-cache (the entry is refreshed)");
  const std::string refreshed_id = refreshed.value("job_id", "");
  nlohmann::json read_only = SubmitJson(cli, spec, {"--cache", "read-only"});
  ExpectAllHit(read_only, refreshed, refreshed_id);
}

TEST(Cache, ATenantUsesOnlyItsOwnEntries) {
  TempDir config;
  const std::string tokens =
      config.Write("named-tokens", "alice:alice-token-0123456789\nbob:bob-token-0123456789ab\n");
  const std::string alice_token = config.Write("alice.token", "alice-token-0123456789\n");
  const std::string bob_token = config.Write("bob.token", "bob-token-0123456789ab\n");
  TestCluster cluster({{"w1", ""}, {"w2", ""}}, {"--named-token-file", tokens});
  const std::string spec = cluster.data_dir() + "/cached.yaml";
  std::ofstream(spec) << kClusterSpec;
  auto as = [&](const std::string& token_file) {
    return [&cluster, token_file](const std::vector<std::string>& args) {
      std::vector<std::string> argv = {kHollerith};
      argv.insert(argv.end(), args.begin(), args.end());
      return RunCommand(
          argv, std::chrono::seconds(60),
          {"HOLLERITH_COORDINATOR=" + cluster.address(), "HOLLERITH_TOKEN_FILE=" + token_file});
    };
  };
  const auto alice = as(alice_token);
  const auto bob = as(bob_token);

  nlohmann::json alice_first = SubmitJson(alice, spec);
  ExpectFreshRun(alice_first, "miss: no entry for this card yet");
  const std::string alice_id = alice_first.value("job_id", "");
  ExpectAllHit(SubmitJson(alice, spec), alice_first, alice_id);

  // Bob's same job finds none of alice's entries; his second run finds his own.
  nlohmann::json bob_first = SubmitJson(bob, spec);
  ExpectFreshRun(bob_first, "miss: no entry for this card yet");
  const std::string bob_id = bob_first.value("job_id", "");
  ASSERT_FALSE(bob_id.empty());
  ExpectAllHit(SubmitJson(bob, spec), bob_first, bob_id);
  // And alice still hers.
  ExpectAllHit(SubmitJson(alice, spec), alice_first, alice_id);
}

}  // namespace
}  // namespace hollerith::testing
