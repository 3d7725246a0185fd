// The result cache's flags of `run` and `submit` (--no-cache, --cache MODE) and of a local run's
// cache (--cache-dir, --cache-max-bytes), and opening that cache.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "common/artifacts/store.h"
#include "common/cache/card_cache.h"

namespace hollerith::cli {

struct CacheFlags {
  bool no_cache = false;
  std::string mode = "on";
  std::string dir;  // empty: DefaultCacheDir()
  std::string max_bytes = "5GiB";
};

// --no-cache and --cache; with `local`, also --cache-dir and --cache-max-bytes.
void AddCacheFlags(CLI::App* cmd, CacheFlags& flags, bool local);
// What the flags ask for (--no-cache wins).
CacheMode CacheModeOf(const CacheFlags& flags);
// $XDG_CACHE_HOME/hollerith, else ~/.cache/hollerith, else a directory under /tmp.
std::filesystem::path DefaultCacheDir();

// A local run's cache: its entries (cache.db) and files (artifacts/) under the directory.
struct LocalCache {
  std::unique_ptr<ResultCache> entries;  // null: unavailable, `problem` says why
  std::unique_ptr<ArtifactStore> files;
  std::string problem;
};
LocalCache OpenLocalCache(const CacheFlags& flags);

}  // namespace hollerith::cli
