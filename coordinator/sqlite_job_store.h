// The embedded durable JobStore: SQLite in WAL mode, one database file in the coordinator's data
// dir, behind the group commit (coordinator/group_commit_store.h). Durability by SyncMode: kNormal
// (synchronous=NORMAL) survives a crash of the process (kill -9) with nothing committed lost;
// kFull (synchronous=FULL) also survives a power loss, at the price of an fsync per commit.
#pragma once

#include <memory>
#include <string>

#include "coordinator/group_commit_store.h"

namespace hollerith::coordinator {

enum class SyncMode { kNormal, kFull };

// Opens (creating if needed) the database at `path`. A corrupt or unreadable file is an error
// naming the file, never a silently empty store.
Result<std::unique_ptr<GroupCommitStore>> OpenSqliteStore(const std::string& path, SyncMode sync);

}  // namespace hollerith::coordinator
