// The OTLP/JSON writer (wire/otlp_json.h) over what the reader accepts.
// Input: a signal byte, then the request.
//
// Invariant: whatever ReadExportRequest accepts (or the filtered request it
// makes), JsonWriter writes, and the result is one valid JSON object.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_otlp.h"
#include "nlohmann/json.hpp"
#include "wire/otlp_json.h"
#include "wire/otlp_reader.h"

namespace wire = tracewire::wire;
using tracewire::fuzz::FuzzCheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const wire::Signal signal = tracewire::fuzz::SignalOf(data[0]);
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto read = wire::ReadExportRequest(signal, bytes);
  if (!read.ok()) return 0;
  const std::string_view accepted = read->filtered.empty() ? bytes : read->filtered;
  wire::JsonWriter writer;
  std::string out;
  FuzzCheck(writer.Append(accepted, wire::schema::ExportRequestOf(signal), &out),
            "an accepted request writes as JSON");
  FuzzCheck(nlohmann::json::accept(out), "the JSON is valid");
  FuzzCheck(!out.empty() && out.front() == '{' && out.back() == '}', "one JSON object");
  return 0;
}
