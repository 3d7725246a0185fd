#include "coordinator/submission.h"

namespace hollerith::coordinator {

Result<std::shared_ptr<const JobSpec>> ParseSubmission(const v1::SubmitJobRequest& req,
                                                       const SpecLimits& limits) {
  const std::string name = req.spec_name().empty() ? "spec" : req.spec_name().substr(0, 256);
  if (req.spec().size() > limits.max_file_bytes) {
    return Status::InvalidArgument(name + ": spec is " + std::to_string(req.spec().size()) +
                                   " bytes; the limit is " + std::to_string(limits.max_file_bytes) +
                                   " (--max-spec-bytes)");
  }
  if (req.idempotency_key().size() > kMaxIdempotencyKeyBytes) {
    return Status::InvalidArgument("idempotency key too long (at most " +
                                   std::to_string(kMaxIdempotencyKeyBytes) + " bytes)");
  }
  auto parsed = ParseJobSpec(req.spec(), name, limits);
  if (!parsed.ok()) return Status::InvalidArgument(parsed.message());
  return std::shared_ptr<const JobSpec>(std::make_shared<const JobSpec>(std::move(parsed).value()));
}

}  // namespace hollerith::coordinator
