// `hollerith cache ls | show KEY | rm KEY | clear`: the result cache's entries, the coordinator's
// (of the caller's tenant: ListCache, RemoveCache) or, with --local, those of `run --local`'s
// cache directory (cache.db and artifacts/ under --cache-dir).
#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands/cache_flags.h"
#include "cli/commands/cluster_flags.h"
#include "cli/commands/commands.h"
#include "cli/display/tables.h"
#include "common/spec/quantities.h"
#include "proto/cache_wire.h"

namespace hollerith::cli {
namespace {

constexpr size_t kShortKey = 12;  // hex digits of a key in the table
constexpr const char* kLocalScope = "local";

struct CacheCommandFlags {
  ClusterFlags cluster;
  bool local = false;
  std::string cache_dir;  // empty: DefaultCacheDir()
  bool json = false;
  std::string key;  // show, rm: a key or a unique prefix of one
};

// Where the entries are: the coordinator (through a Client) or the local cache directory. Both
// answer in the coordinator's messages, so that ls, show and --json print them the same way.
class Entries {
 public:
  virtual ~Entries() = default;
  // The entries whose key starts with `key` ("": all of them, without their stdout).
  virtual Result<v1::ListCacheResponse> List(const std::string& key) = 0;
  // Removes the entry with this whole key ("": every entry); returns how many went.
  virtual Result<uint64_t> Remove(const std::string& key) = 0;
  // "the coordinator at ADDRESS", "the local cache in DIR": for messages.
  virtual std::string where() const = 0;
  virtual bool local() const = 0;
};

class CoordinatorEntries : public Entries {
 public:
  explicit CoordinatorEntries(Client client) : client_(std::move(client)) {}
  Result<v1::ListCacheResponse> List(const std::string& key) override {
    return client_.ListCache(key);
  }
  Result<uint64_t> Remove(const std::string& key) override { return client_.RemoveCache(key); }
  std::string where() const override { return "the coordinator at " + client_.address(); }
  bool local() const override { return false; }

 private:
  Client client_;
};

class LocalEntries : public Entries {
 public:
  // `cache`: open (entries not null), or null when the directory has no cache.db yet.
  LocalEntries(std::filesystem::path dir, std::unique_ptr<LocalCache> cache, uint64_t max_bytes)
      : dir_(std::move(dir)), cache_(std::move(cache)), max_bytes_(max_bytes) {}

  Result<v1::ListCacheResponse> List(const std::string& key) override {
    v1::ListCacheResponse resp;
    resp.set_max_bytes(max_bytes_);
    if (!cache_) return resp;
    ResultCache& entries = *cache_->entries;
    const CacheStats stats = entries.stats();
    resp.set_entries_total(stats.entries);
    resp.set_bytes_total(stats.bytes);
    for (const CacheEntry& e : entries.List(kLocalScope)) {
      if (key.empty()) {
        wire::ToProto(e, resp.add_entries());
      } else if (e.key.compare(0, key.size(), key) == 0) {
        wire::ToProto(entries.Peek(e.scope, e.key).value_or(e), resp.add_entries());
      }
    }
    return resp;
  }

  Result<uint64_t> Remove(const std::string& key) override {
    if (!cache_) {
      if (key.empty()) return uint64_t{0};
      return Status::NotFound("no cache entry " + key + " in " + where());
    }
    std::vector<std::string> orphaned;
    Result<size_t> removed = key.empty() ? cache_->entries->Clear(kLocalScope, &orphaned)
                                         : cache_->entries->Remove(kLocalScope, key, &orphaned);
    if (!removed.ok()) return removed.status();
    // The files no entry refers to any more are the local cache's own: no job uses them.
    for (const std::string& digest : orphaned) {
      std::error_code ec;
      std::filesystem::remove(cache_->files->PathOf(digest), ec);
    }
    if (!key.empty() && *removed == 0) {
      return Status::NotFound("no cache entry " + key + " in " + where());
    }
    return uint64_t{*removed};
  }

  std::string where() const override { return "the local cache in " + dir_.string(); }
  bool local() const override { return true; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<LocalCache> cache_;
  uint64_t max_bytes_;
};

// The entries the flags name; null after printing why not (the caller exits 2).
std::unique_ptr<Entries> OpenEntries(const CacheCommandFlags& f) {
  if (!f.local) {
    auto client = ConnectClient(f.cluster);
    if (!client) return nullptr;
    return std::make_unique<CoordinatorEntries>(std::move(*client));
  }
  CacheFlags flags;
  flags.dir = f.cache_dir;
  const std::filesystem::path dir =
      flags.dir.empty() ? DefaultCacheDir() : std::filesystem::path(flags.dir);
  const uint64_t max_bytes = *ParseSize(flags.max_bytes);
  std::error_code ec;
  if (!std::filesystem::exists(dir / "cache.db", ec)) {
    // Nothing cached there yet: say so without making the directory.
    return std::make_unique<LocalEntries>(dir, nullptr, max_bytes);
  }
  auto cache = std::make_unique<LocalCache>(OpenLocalCache(flags));
  if (!cache->entries) {
    std::fprintf(stderr, "cannot open the local cache in %s: %s\n", dir.c_str(),
                 cache->problem.c_str());
    return nullptr;
  }
  return std::make_unique<LocalEntries>(dir, std::move(cache), max_bytes);
}

// "512 B", "1.5 KiB", "12 MiB", "3.1 GiB".
std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, value < 10.0 ? "%.1f" : "%.0f", value);
  std::string text = buf;
  if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
  return text + " " + kUnits[unit];
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-12-05 22:30:01Z".
std::string Date(int64_t wall_us) {
  const std::time_t t = static_cast<std::time_t>(wall_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// "just now", "42s ago", "5m ago", "3h ago", "6d ago"; a date beyond 30 days.
std::string Age(int64_t wall_us, int64_t now_us) {
  if (wall_us <= 0) return "-";
  const int64_t s = (now_us - wall_us) / 1'000'000;
  if (s < 1) return "just now";
  if (s < 60) return std::to_string(s) + "s ago";
  if (s < 3600) return std::to_string(s / 60) + "m ago";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h ago";
  if (s < 30 * 86400) return std::to_string(s / 86400) + "d ago";
  return Date(wall_us).substr(0, 10);
}

std::string JobText(const v1::CacheEntryInfo& e) {
  std::string job = e.job().empty() ? "-" : e.job();
  if (!e.job_name().empty() && e.job_name() != e.job()) job += " (" + e.job_name() + ")";
  return job;
}

template <typename Message>
void PrintJson(Message message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json << std::endl;
}

// A key or a prefix of one, as `ls` prints them: hex digits (upper case is taken as lower case).
bool NormalizeKey(std::string& key) {
  if (key.empty() || key.size() > 64) return false;
  for (char& c : key) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

int ReportUnavailable(const Entries& entries, const v1::ListCacheResponse& list) {
  if (list.unavailable().empty()) return 0;
  std::fprintf(stderr, "%s runs without a result cache: %s\n", entries.where().c_str(),
               list.unavailable().c_str());
  return 2;
}

int Ls(const CacheCommandFlags& f) {
  auto entries = OpenEntries(f);
  if (!entries) return 2;
  auto list = entries->List("");
  if (!list.ok()) {
    std::fprintf(stderr, "%s\n", list.message().c_str());
    return 2;
  }
  if (f.json) {
    list->clear_lamport();
    PrintJson(*list);
    return ReportUnavailable(*entries, *list);
  }
  if (int code = ReportUnavailable(*entries, *list); code != 0) return code;
  uint64_t bytes = 0;
  for (const auto& e : list->entries()) bytes += e.bytes();
  if (list->entries().empty()) {
    std::printf("no cache entries in %s\n", entries->where().c_str());
  } else {
    const int64_t now = NowUs();
    TextTable table({"KEY", "CARD", "JOB", "BYTES", "LAST USED"});
    for (const auto& e : list->entries()) {
      table.AddRow({e.key().substr(0, kShortKey), e.card(), JobText(e), HumanBytes(e.bytes()),
                    Age(e.last_used_us(), now)});
    }
    table.Print(stdout);
  }
  const size_t n = static_cast<size_t>(list->entries().size());
  if (entries->local()) {
    std::printf("%zu entr%s, %s (`run --cache-max-bytes` bounds it: %s by default)\n", n,
                n == 1 ? "y" : "ies", HumanBytes(bytes).c_str(),
                HumanBytes(list->max_bytes()).c_str());
  } else {
    const std::string max =
        list->max_bytes() == 0 ? std::string("(no bound)") : "of " + HumanBytes(list->max_bytes());
    const std::string tenant =
        n > 0 ? " of tenant " + list->entries(0).tenant() : std::string(" of your tenant");
    std::printf(
        "%zu entr%s%s, %s; all tenants: %llu entr%s, %s %s; since the coordinator "
        "started: %llu hits, %llu misses, %llu evictions\n",
        n, n == 1 ? "y" : "ies", tenant.c_str(), HumanBytes(bytes).c_str(),
        static_cast<unsigned long long>(list->entries_total()),
        list->entries_total() == 1 ? "y" : "ies", HumanBytes(list->bytes_total()).c_str(),
        max.c_str(), static_cast<unsigned long long>(list->hits()),
        static_cast<unsigned long long>(list->misses()),
        static_cast<unsigned long long>(list->evictions()));
  }
  std::fflush(stdout);
  return 0;
}

// What lists the entries the flags name: "hollerith cache ls --local --cache-dir DIR".
std::string LsCommand(const CacheCommandFlags& f) {
  std::string command = "hollerith cache ls";
  if (f.local) command += " --local";
  if (!f.cache_dir.empty()) command += " --cache-dir " + f.cache_dir;
  return command;
}

// The one entry whose key starts with `key`, with its stdout; nullopt after printing why not.
std::optional<v1::CacheEntryInfo> FindOne(Entries& entries, const std::string& key,
                                          const std::string& ls_command) {
  auto list = entries.List(key);
  if (!list.ok()) {
    std::fprintf(stderr, "%s\n", list.message().c_str());
    return std::nullopt;
  }
  if (ReportUnavailable(entries, *list) != 0) return std::nullopt;
  if (list->entries().empty()) {
    std::fprintf(stderr, "no cache entry %s in %s (`%s` lists them)\n", key.c_str(),
                 entries.where().c_str(), ls_command.c_str());
    return std::nullopt;
  }
  if (list->entries().size() > 1) {
    std::string keys;
    for (const auto& e : list->entries()) keys += "\n  " + e.key() + "  " + e.card();
    std::fprintf(stderr, "%s is the start of %d cache entries' keys; give more of it:%s\n",
                 key.c_str(), list->entries().size(), keys.c_str());
    return std::nullopt;
  }
  return list->entries(0);
}

int Show(CacheCommandFlags f) {
  if (!NormalizeKey(f.key)) {
    std::fprintf(stderr, "'%s' is not a cache key: hex digits, as `hollerith cache ls` prints\n",
                 f.key.c_str());
    return 2;
  }
  auto entries = OpenEntries(f);
  if (!entries) return 2;
  auto e = FindOne(*entries, f.key, LsCommand(f));
  if (!e) return 2;
  if (f.json) {
    PrintJson(*e);
    return 0;
  }
  const int64_t now = NowUs();
  std::printf("key:        %s\n", e->key().c_str());
  std::printf("%s  %s\n", entries->local() ? "scope:    " : "tenant:   ", e->tenant().c_str());
  std::printf("card:       %s\n", e->card().c_str());
  std::printf("job:        %s\n", JobText(*e).c_str());
  std::printf("exit code:  %d\n", e->exit_code());
  std::printf("bytes:      %s (%llu: stdout and outputs)\n", HumanBytes(e->bytes()).c_str(),
              static_cast<unsigned long long>(e->bytes()));
  std::printf("created:    %s (%s)\n", Date(e->created_us()).c_str(),
              Age(e->created_us(), now).c_str());
  std::printf("last used:  %s (%s)\n", Date(e->last_used_us()).c_str(),
              Age(e->last_used_us(), now).c_str());
  std::printf("key parts:\n");
  TextTable parts({"  PART", "SHA256"});
  for (const auto& p : e->parts()) parts.AddRow({"  " + p.path(), p.sha256()});
  parts.Print(stdout);
  if (e->outputs().empty()) {
    std::printf("outputs:    none\n");
  } else {
    std::printf("outputs:\n");
    TextTable outputs({"  PATH", "SHA256"});
    for (const auto& o : e->outputs()) outputs.AddRow({"  " + o.path(), o.sha256()});
    outputs.Print(stdout);
  }
  const std::string& text = e->stdout_text();
  if (text.empty()) {
    std::printf("stdout:     (empty)\n");
  } else {
    std::printf("stdout:\n");
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (text.back() != '\n') std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  return 0;
}

int Rm(CacheCommandFlags f) {
  if (!NormalizeKey(f.key)) {
    std::fprintf(stderr, "'%s' is not a cache key: hex digits, as `hollerith cache ls` prints\n",
                 f.key.c_str());
    return 2;
  }
  auto entries = OpenEntries(f);
  if (!entries) return 2;
  auto e = FindOne(*entries, f.key, LsCommand(f));  // a prefix names one entry, never several
  if (!e) return 2;
  auto removed = entries->Remove(e->key());
  if (!removed.ok()) {
    std::fprintf(stderr, "%s\n", removed.message().c_str());
    return 2;
  }
  std::printf("removed cache entry %s (%s)\n", e->key().c_str(), e->card().c_str());
  return 0;
}

int Clear(const CacheCommandFlags& f) {
  auto entries = OpenEntries(f);
  if (!entries) return 2;
  auto removed = entries->Remove("");
  if (!removed.ok()) {
    std::fprintf(stderr, "%s\n", removed.message().c_str());
    return 2;
  }
  std::printf("removed %llu cache entr%s from %s\n", static_cast<unsigned long long>(*removed),
              *removed == 1 ? "y" : "ies", entries->where().c_str());
  return 0;
}

// --local, --cache-dir (only with --local) and the coordinator's flags.
void AddWhereFlags(CLI::App* cmd, CacheCommandFlags& f) {
  auto* local = cmd->add_flag("--local", f.local,
                              "The cache of `hollerith run --local` on this machine instead of "
                              "the coordinator's");
  cmd->add_option("--cache-dir", f.cache_dir,
                  "With --local: the cache's directory, as given to `run --cache-dir` (default: "
                  "$XDG_CACHE_HOME/hollerith or ~/.cache/hollerith)")
      ->needs(local);
  AddClusterFlags(cmd, f.cluster);
}

}  // namespace

void AddCacheCommand(CLI::App& app, int& exit_code) {
  auto* cache = app.add_subcommand(
      "cache",
      "List, show and remove the result cache's entries (cards with `cache: true`): ls, show "
      "KEY, rm KEY, clear");
  cache->require_subcommand(1);
  cache->footer(
      "A card with `cache: true` whose cache key (a digest of its command, env, limits, "
      "inputs, declared outputs, the cards before it in its stack and its cache_version) matches "
      "an entry is not run: the entry's exit code and stdout are its result and its declared "
      "outputs are restored. A coordinator keeps the entries of its tenants' successful cards "
      "(DATA_DIR/cache.db, bounded by --cache-max-bytes); `hollerith cache` sees and removes "
      "only the entries of the caller's tenant. `run --local` keeps its own, apart, in "
      "--cache-dir (--local here). KEY is a key or a prefix of one that names a single entry. "
      "See docs/cache.md.");

  auto ls = std::make_shared<CacheCommandFlags>();
  auto* ls_cmd = cache->add_subcommand(
      "ls", "List the entries (most recently used first), their size and the cache's counters");
  ls_cmd->add_flag("--json", ls->json, "Print the entries as JSON (ListCacheResponse)");
  AddWhereFlags(ls_cmd, *ls);
  ls_cmd->callback([ls, &exit_code] { exit_code = Ls(*ls); });

  auto show = std::make_shared<CacheCommandFlags>();
  auto* show_cmd = cache->add_subcommand(
      "show", "Print one entry: its card, job, exit code, key parts, outputs and stdout");
  show_cmd->add_option("KEY", show->key, "The entry's key, or a prefix naming only it")->required();
  show_cmd->add_flag("--json", show->json, "Print the entry as JSON (CacheEntryInfo)");
  AddWhereFlags(show_cmd, *show);
  show_cmd->callback([show, &exit_code] { exit_code = Show(*show); });

  auto rm = std::make_shared<CacheCommandFlags>();
  auto* rm_cmd = cache->add_subcommand(
      "rm", "Remove one entry: the card runs again the next time (exit 2 if there is none)");
  rm_cmd->add_option("KEY", rm->key, "The entry's key, or a prefix naming only it")->required();
  AddWhereFlags(rm_cmd, *rm);
  rm_cmd->callback([rm, &exit_code] { exit_code = Rm(*rm); });

  auto clear = std::make_shared<CacheCommandFlags>();
  auto* clear_cmd =
      cache->add_subcommand("clear", "Remove every entry (of the caller's tenant, or --local's)");
  AddWhereFlags(clear_cmd, *clear);
  clear_cmd->callback([clear, &exit_code] { exit_code = Clear(*clear); });
}

}  // namespace hollerith::cli
