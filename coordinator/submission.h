// The check of a SubmitJobRequest before it reaches the coordinator's state: size limits, the
// idempotency key, the spec parsed (on the calling gRPC thread: a large spec must not stall the
// loop). Shared by the service and the fuzz target of client requests.
#pragma once

#include <memory>

#include "common/base/status.h"
#include "common/spec/parser.h"
#include "hollerith.pb.h"

namespace hollerith::coordinator {

inline constexpr size_t kMaxIdempotencyKeyBytes = 256;

// The parsed spec, or INVALID_ARGUMENT with every error for people.
Result<std::shared_ptr<const JobSpec>> ParseSubmission(const v1::SubmitJobRequest& req,
                                                       const SpecLimits& limits);

}  // namespace hollerith::coordinator
