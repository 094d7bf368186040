// The wire reader of one signal (TW_FUZZ_SIGNAL: 0 traces, 1 metrics,
// 2 logs) and its validation and partial-success filtering.
//
// Invariants: ReadExportRequest never crashes; when it accepts a request,
// the visitor sees exactly the accepted items, and a filtered request (some
// items rejected) reads again as a request of items - rejected items with
// none rejected; an accepted request also validates against its schema.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_otlp.h"
#include "wire/otlp_reader.h"
#include "wire/otlp_validate.h"

namespace {

using tracewire::fuzz::FuzzCheck;
namespace wire = tracewire::wire;

class Counter : public wire::RequestVisitor {
 public:
  void OnSpan(const wire::SpanView&) override { ++items; }
  void OnMetric(const wire::MetricView& m) override { items += m.data_points; }
  void OnLogRecord(const wire::LogRecordView&) override { ++items; }
  int64_t items = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const wire::Signal signal = tracewire::fuzz::SignalOf(TW_FUZZ_SIGNAL);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Counter seen;
  auto read = wire::ReadExportRequest(signal, bytes, &seen);
  if (!read.ok()) return 0;
  FuzzCheck(read->rejected >= 0 && read->rejected <= read->items, "rejected within items");
  FuzzCheck(seen.items == read->items - read->rejected, "visitor sees the accepted items");
  FuzzCheck(wire::ValidateMessage(bytes, wire::schema::ExportRequestOf(signal)),
            "an accepted request validates");
  if (read->filtered.empty()) {
    FuzzCheck(read->rejected == 0, "items rejected but no filtered request");
    return 0;
  }
  auto again = wire::ReadExportRequest(signal, read->filtered);
  FuzzCheck(again.ok(), "the filtered request reads");
  FuzzCheck(again->rejected == 0, "the filtered request has no invalid item");
  FuzzCheck(again->filtered.empty(), "the filtered request needs no filtering");
  FuzzCheck(again->items == read->items - read->rejected, "the filtered request keeps the rest");
  return 0;
}
