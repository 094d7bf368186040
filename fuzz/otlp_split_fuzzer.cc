// The byte splitter (wire/otlp_split.h). Input: a signal byte, a size byte,
// then the request.
//
// Invariants: SplitRequest and SplitInHalves never crash; for a request the
// reader accepts, the parts hold every item once (their counts add up), each
// part reads as a request of its own, and SplitRequest's parts respect the
// size limit unless a part is a single item message.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_otlp.h"
#include "wire/otlp_reader.h"
#include "wire/otlp_split.h"

namespace wire = tracewire::wire;
using tracewire::fuzz::FuzzCheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const wire::Signal signal = tracewire::fuzz::SignalOf(data[0]);
  const size_t max_bytes = 16 + static_cast<size_t>(data[1]) * 8;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  auto read = wire::ReadExportRequest(signal, bytes);
  auto parts = wire::SplitRequest(signal, bytes, max_bytes);
  auto halves = wire::SplitInHalves(signal, bytes);
  if (!read.ok()) return 0;
  FuzzCheck(parts.ok() && halves.ok(), "an accepted request splits");
  for (const auto* list : {&*parts, &*halves}) {
    int64_t items = 0;
    for (const wire::RequestPart& p : *list) {
      auto r = wire::ReadExportRequest(signal, p.bytes);
      FuzzCheck(r.ok(), "each part reads");
      FuzzCheck(r->items == p.items, "a part's count is its items");
      items += p.items;
      if (list == &*parts && p.units > 1) {
        FuzzCheck(p.bytes.size() <= max_bytes, "a part of several items fits the limit");
      }
    }
    FuzzCheck(items == read->items, "the parts hold every item");
  }
  return 0;
}
