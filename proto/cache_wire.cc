#include "proto/cache_wire.h"

#include "proto/wire.h"

namespace hollerith::wire {

void ToProto(const CacheEntry& e, v1::CacheEntryInfo* out) {
  out->set_key(e.key);
  out->set_tenant(e.scope);
  out->set_job(e.job);
  out->set_job_name(e.job_name);
  out->set_card(e.card_name);
  out->set_exit_code(e.exit_code);
  out->set_bytes(e.bytes);
  out->set_created_us(e.created_us);
  out->set_last_used_us(e.last_used_us);
  ToProto(e.outputs, out->mutable_outputs());
  ToProto(e.parts, out->mutable_parts());
  out->set_stdout_text(e.stdout_text);
}

}  // namespace hollerith::wire
