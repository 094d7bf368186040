// A store's span block as read back from a file that may be damaged
// (store/span_block.h, store/trace_index.h). Input: [u32 size of cols][cols]
// [data], where data is the stored (compressed) data blob, also read as the
// keys blob of a block and as a trace index part.
//
// Invariants: BlockView::Parse accepts or refuses; what it accepts reads
// only inside the blobs (every accessor, every record); a record's raw span
// lies inside the data; DecompressData refuses or gives bytes that compress
// and decompress back to themselves; the index helpers read any size.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "store/span_block.h"
#include "store/trace_index.h"

namespace store = tracewire::store;
using tracewire::fuzz::FuzzCheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  uint32_t cols_size = 0;
  if (in.size() >= 4) std::memcpy(&cols_size, in.data(), 4);
  const std::string_view rest = in.substr(std::min<size_t>(4, in.size()));
  const std::string_view cols = rest.substr(0, std::min<size_t>(cols_size, rest.size()));
  const std::string_view blob = rest.substr(cols.size());

  absl::StatusOr<std::string> raw = store::DecompressData(blob);
  if (raw.ok()) {
    absl::StatusOr<std::string> again = store::DecompressData(store::CompressData(*raw));
    FuzzCheck(again.ok() && *again == *raw, "decompressed data round-trips");
  }
  const std::string_view spans = raw.ok() ? std::string_view(*raw) : blob;

  store::BlockView v;
  if (v.Parse(cols).ok()) {
    size_t touched = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      const store::SpanRecord r = v.record(i);
      touched += v.str(r.service).size() + v.str(r.name).size();
      for (uint32_t a = 0; a < r.attrs_count; ++a) {
        const auto [k, val] = v.attribute(r.attrs_begin + a);
        touched += v.str(k).size() + v.str(val).size();
      }
      touched += static_cast<size_t>(v.origin(r.origin).second & 1);
      const std::string_view span = store::BlockView::Raw(r, spans);
      FuzzCheck(span.empty() || (span.data() >= spans.data() &&
                                 span.data() + span.size() <= spans.data() + spans.size()),
                "a record's raw span lies inside the data");
    }
    (void)touched;
  }

  std::vector<int64_t> blocks;
  const uint64_t key = store::TraceKey(cols);
  store::FindInPart(blob, key, &blocks);
  (void)store::KeysContain(blob, key);
  for (int64_t b : blocks) (void)b;
  return 0;
}
