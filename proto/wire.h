// Conversions between the transport-neutral messages of common/ and the hollerith.v1 protos.
// Anything coming from the wire is validated here (FromProto returns errors, never asserts).
#pragma once

#include "common/base/status.h"
#include "common/core/messages.h"
#include "common/spec/job.h"
#include "hollerith.pb.h"

namespace hollerith::wire {

// The first message of a worker's session: a hello with a name of [A-Za-z0-9_.-]{1,64}, 1..4096
// slots, labels with keys of 1..64 and values of at most 256 bytes (INVALID_ARGUMENT otherwise).
Status ValidateHello(const v1::WorkerMessage& first);

// A job id as the coordinator makes them (NAME-N), safe as a file name (workspaces use it).
bool ValidJobId(const std::string& job_id);

void ToProto(const VectorClock& vc, v1::VectorClock* out);
void ToProto(const OutputDigests& digests,
             google::protobuf::RepeatedPtrField<v1::OutputDigest>* out);
VectorClock FromProto(const v1::VectorClock& vc);
void ToProto(CardRef r, v1::CardRef* out);
CardRef FromProto(const v1::CardRef& r);

void ToProto(const Resources& r, v1::Resources* out);
// Names and amounts checked as a spec's are (an unknown name or an absurd amount is an error).
Result<Resources> FromProto(const v1::Resources& r);

void ToProto(const StackSpec& stack, v1::StackDef* out);
// `stack_index` is the stack's own index; references to other stacks are kept as indices.
Result<StackSpec> FromProto(const v1::StackDef& def, uint32_t stack_index);

void ToProto(const std::string& job_id, const AssignStackMsg& m, const StackSpec& spec,
             v1::Assignment* out);
AssignStackMsg FromProto(const v1::Assignment& a);
void ToProto(const CachedCard& c, v1::CachedCard* out);
CachedCard FromProto(const v1::CachedCard& c);
void ToProto(const std::string& job_id, const CacheHitMsg& m, v1::CacheHit* out);
CacheHitMsg FromProto(const v1::CacheHit& h);
void ToProto(const std::string& job_id, const ReleaseMsg& m, v1::Release* out);
ReleaseMsg FromProto(const v1::Release& r);
void ToProto(const std::string& job_id, const RetryMsg& m, v1::Retry* out);
RetryMsg FromProto(const v1::Retry& r);
void ToProto(const std::string& job_id, const SkipMsg& m, v1::Skip* out);
SkipMsg FromProto(const v1::Skip& s);

void ToProto(const std::string& job_id, const CardStartedMsg& m, v1::CardStarted* out);
CardStartedMsg FromProto(const v1::CardStarted& m, const std::string& node);
void ToProto(const std::string& job_id, const CardFinishedMsg& m, v1::CardFinished* out);
CardFinishedMsg FromProto(const v1::CardFinished& m, const std::string& node);

}  // namespace hollerith::wire
