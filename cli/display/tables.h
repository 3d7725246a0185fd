// Renderings of jobs and workers: tables for people, the result document for scripts.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "common/core/result_document.h"
#include "common/core/scheduler_core.h"
#include "hollerith.pb.h"

namespace hollerith::cli {

// Left-aligned columns, two spaces apart, sized to their widest cell.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::FILE* out) const;
  size_t columns() const { return rows_.front().size(); }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string FormatDurationMs(int64_t ms);

void PrintJobsTable(std::FILE* out, const std::vector<v1::JobStatus>& jobs);
// "cpu=2,memory=4GiB,gpu=1", or "-" when empty.
std::string ResourcesText(const v1::Resources& r);
// `hollerith quota`: per tenant its weight, share, what runs and is placed, what waits, its quota.
void PrintTenantsTable(std::FILE* out, const v1::ListTenantsResponse& tenants);
void PrintWorkersTable(std::FILE* out, const std::vector<v1::WorkerInfo>& workers);
// One "warning: ..." line for each worker whose version differs from the coordinator's (none if
// the coordinator did not say its version).
std::vector<std::string> VersionMismatchWarnings(const std::vector<v1::WorkerInfo>& workers,
                                                 const std::string& coordinator_version);
// The job's state and reason, then one line per stack (with why it waits, if it cannot be placed).
void PrintJobStacks(std::FILE* out, const v1::JobStatus& job);
// One line per card of the result document: state, exit code, attempts, node, duration; in the
// spec's order (stack by stack, cards in stack order, combine last), as job.card_order lists it.
void PrintCardTable(std::FILE* out, const v1::JobStatus& job);
// The same table for a job run in this process (`run --local`).
void PrintCardTable(std::FILE* out, const SchedulerCore& core, const CacheNotes* notes = nullptr);
// The result document, pretty-printed; for a job too big to have one, its summary as JSON.
std::string ResultDocumentText(const v1::JobStatus& job);
// "job 'report' (ID) succeeded" plus the reason, if any.
std::string JobSummaryLine(const v1::JobStatus& job);

}  // namespace hollerith::cli
