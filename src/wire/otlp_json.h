#pragma once
// Writes OTLP protobuf bytes as OTLP/JSON, the mapping the OTLP specification
// gives: lowerCamelCase field names, trace and span ids as lowercase hex,
// enums as integers, 64-bit integers as decimal strings, other bytes as
// base64, default values left out (fields with presence printed when set).
//
// JsonWriter keeps scratch space between calls: thread-compatible.

#include <string>
#include <string_view>
#include <vector>

#include "wire/otlp_schema.h"
#include "wire/proto_reader.h"

namespace tracewire::wire {

class JsonWriter {
 public:
  // Appends `bytes`, a message of type `desc`, as one JSON object to *out.
  // Returns false (and leaves *out with a partial object) when the bytes are
  // malformed; callers validate first.
  bool Append(std::string_view bytes, const MessageDesc& desc, std::string* out);

 private:
  bool AppendMessage(std::string_view bytes, const MessageDesc& desc, int depth,
                     std::string* out);
  bool AppendValue(const FieldDesc& fd, const Field& f, int depth, std::string* out);

  std::vector<std::vector<Field>> scratch_;  // one list of fields per depth
};

// Appends `s` as a quoted JSON string.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace tracewire::wire
