// A result cache entry (common/cache/result_cache.h) as `hollerith cache` receives it: apart from
// wire.h, so that the client library does not carry the cache's store.
#pragma once

#include "common/cache/result_cache.h"
#include "hollerith.pb.h"

namespace hollerith::wire {

// The key's parts go as (name, digest) pairs in `parts`.
void ToProto(const CacheEntry& e, v1::CacheEntryInfo* out);

}  // namespace hollerith::wire
