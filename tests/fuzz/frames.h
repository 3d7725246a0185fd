// Fuzz inputs that are several protos: the input is read as the wire format of a message whose
// every field is `bytes` (field number N = kind N of frame), each holding one serialized proto.
// Mutating the bytes changes the protos inside; the seeds are written by fuzz_seeds.
#pragma once

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hollerith::fuzz {

struct Frame {
  uint32_t kind = 0;  // the field number
  std::string bytes;
};

// At most `max_frames` (a bound on work per input), malformed tails ignored.
inline std::vector<Frame> ReadFrames(const uint8_t* data, size_t size, size_t max_frames = 64) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(data, static_cast<int>(size));
  std::vector<Frame> frames;
  while (frames.size() < max_frames) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) break;
      continue;
    }
    Frame f;
    f.kind = WireFormatLite::GetTagFieldNumber(tag);
    uint32_t length = 0;
    if (!in.ReadVarint32(&length) || !in.ReadString(&f.bytes, static_cast<int>(length))) break;
    frames.push_back(std::move(f));
  }
  return frames;
}

inline void AppendFrame(std::string* out, uint32_t kind, const std::string& bytes) {
  using google::protobuf::internal::WireFormatLite;
  std::string head;
  google::protobuf::io::StringOutputStream stream(&head);
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(WireFormatLite::MakeTag(kind, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    coded.WriteVarint32(static_cast<uint32_t>(bytes.size()));
  }
  *out += head;
  *out += bytes;
}

}  // namespace hollerith::fuzz
