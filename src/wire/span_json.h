#pragma once
// OTLP/JSON for ExportTraceServiceRequest bytes, specialised for traces: one
// pass over the bytes, each message written as it is read, with no field
// lists and no allocation beyond appending to the output.
//
// INVARIANT (the contract of this file): for every input `bytes`,
//   AppendTracesJson(bytes, &fallback, out)
// appends exactly the bytes, and returns exactly the value, of
//   fallback.Append(bytes, schema::kExportTraceServiceRequest, out)
// (wire/otlp_json.h). JsonWriter is the definition of the output; this file
// only makes the common case fast.
//
// How: TryAppendTracesJson writes a request only when its bytes are laid out
// as protobuf serializers lay them out, where writing in wire order gives
// JsonWriter's output:
//   - the known fields of each message come in field-number order (except
//     Span.flags, 16, which may come anywhere: it is inserted where JSON
//     wants it), and the occurrences of a repeated field are contiguous;
//   - a singular field occurs at most once (no last-wins, no message merge);
//   - an AnyValue holds at most one member (no oneof clearing);
//   - the bytes parse (ProtoReader) and nest at most kMaxNestingDepth - 2.
// Unknown fields and known fields of an unexpected wire type are skipped,
// as JsonWriter skips them. Given anything else it appends nothing and
// returns false, and AppendTracesJson lets JsonWriter write the whole
// request. tests/wire/span_json_test.cc and fuzz/span_json_fuzzer.cc check
// the invariant.
//
// Pure functions (the fallback writer is the caller's): thread-safe for
// distinct outputs and fallbacks.

#include <string>
#include <string_view>

#include "wire/otlp_json.h"

namespace tracewire::wire {

// Appends the ExportTraceServiceRequest `bytes` as one OTLP/JSON object, the
// same bytes JsonWriter writes. Returns false, with *out as it was, when the
// bytes are outside the layout above (then use JsonWriter).
bool TryAppendTracesJson(std::string_view bytes, std::string* out);

// Appends what `fallback->Append(bytes, schema::kExportTraceServiceRequest,
// out)` appends and returns what it returns: TryAppendTracesJson, or else
// the fallback.
bool AppendTracesJson(std::string_view bytes, JsonWriter* fallback, std::string* out);

}  // namespace tracewire::wire
