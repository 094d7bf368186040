// The traces writer (wire/span_json.h) against JsonWriter (wire/otlp_json.h).
// Input: ExportTraceServiceRequest bytes, valid or not.
//
// Invariant: for every input, AppendTracesJson appends the same bytes and
// returns the same value as JsonWriter; where the fast path alone accepts the
// bytes, JsonWriter accepts them too and writes the same.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "wire/otlp_json.h"
#include "wire/otlp_schema.h"
#include "wire/span_json.h"

namespace wire = tracewire::wire;
using tracewire::fuzz::FuzzCheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  wire::JsonWriter reference;
  std::string want = "prefix";  // both append to what is there
  const bool want_ok = reference.Append(bytes, wire::schema::kExportTraceServiceRequest, &want);

  wire::JsonWriter fallback;
  std::string got = "prefix";
  const bool got_ok = wire::AppendTracesJson(bytes, &fallback, &got);
  FuzzCheck(got_ok == want_ok, "AppendTracesJson returns what JsonWriter returns");
  FuzzCheck(got == want, "AppendTracesJson writes what JsonWriter writes");

  std::string fast = "prefix";
  if (wire::TryAppendTracesJson(bytes, &fast)) {
    FuzzCheck(want_ok, "the fast path accepts only what JsonWriter accepts");
    FuzzCheck(fast == want, "the fast path writes what JsonWriter writes");
  } else {
    FuzzCheck(fast == "prefix", "a refusing fast path leaves the output as it was");
  }
  return 0;
}
