#include "cli/commands/cache_flags.h"

#include <cstdlib>

#include "common/spec/quantities.h"

namespace hollerith::cli {

void AddCacheFlags(CLI::App* cmd, CacheFlags& flags, bool local) {
  cmd->add_flag("--no-cache", flags.no_cache,
                "Run every card, even those with `cache: true` whose results are cached, and "
                "keep their fresh results (the same as --cache refresh)");
  cmd->add_option("--cache", flags.mode,
                  "How cards with `cache: true` use the result cache: on (use and keep results), "
                  "read-only (use, keep nothing), refresh (run them all, keep their results)")
      ->check(CLI::IsMember({"on", "read-only", "refresh", "off"}))
      ->capture_default_str();
  if (!local) return;
  cmd->add_option("--cache-dir", flags.dir,
                  "Where a local run's result cache lives (default: $XDG_CACHE_HOME/hollerith or "
                  "~/.cache/hollerith); a coordinator keeps its own, apart from it");
  cmd->add_option("--cache-max-bytes", flags.max_bytes,
                  "Bound of the local result cache; the least recently used entries go first")
      ->check([](const std::string& v) {
        return ParseSize(v).ok() ? std::string() : "expected a size such as 5GiB or 500MB";
      })
      ->capture_default_str();
}

CacheMode CacheModeOf(const CacheFlags& flags) {
  CacheMode mode = CacheMode::kOn;
  if (flags.no_cache || !ParseCacheMode(flags.mode, &mode)) return CacheMode::kRefresh;
  return mode;
}

std::filesystem::path DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') {
    return std::filesystem::path(xdg) / "hollerith";
  }
  if (const char* home = std::getenv("HOME"); home && *home == '/') {
    return std::filesystem::path(home) / ".cache" / "hollerith";
  }
  return std::filesystem::temp_directory_path() / "hollerith-cache";
}

LocalCache OpenLocalCache(const CacheFlags& flags) {
  LocalCache cache;
  const std::filesystem::path dir =
      flags.dir.empty() ? DefaultCacheDir() : std::filesystem::path(flags.dir);
  std::error_code ec;
  std::filesystem::create_directories(dir / "artifacts", ec);
  if (ec) {
    cache.problem = "cannot create " + (dir / "artifacts").string() + ": " + ec.message();
    return cache;
  }
  auto entries = ResultCache::Open(dir / "cache.db", *ParseSize(flags.max_bytes));
  if (!entries.ok()) {
    cache.problem = entries.message();
    return cache;
  }
  cache.entries = std::move(entries).value();
  cache.files = std::make_unique<ArtifactStore>(dir / "artifacts");
  return cache;
}

}  // namespace hollerith::cli
