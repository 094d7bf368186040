#pragma once
// A span block: the unit in which the store keeps spans. One SQLite row holds
// about StoreOptions::block_spans spans (those of one or more requests; more
// when one request holds more, since a request is never split), as three
// blobs:
//   keys  one 64-bit TraceKey per span, in record order (for scanning blocks
//         not yet in the trace index: see trace_index.h)
//   cols  fixed-size records, one per span (ids, times, status, kind, and
//         dictionary indexes of service, name and the chosen attributes),
//         the block's string dictionary and its (resource, scope) origins
//   data  the spans' raw OTLP bytes, back to back (events, links, every
//         attribute: what `tracewire trace` decodes), zstd-compressed
// and block-level summaries per service, span name and chosen attribute
// (BlockKey) that let queries skip blocks that cannot match.
//
// Why blocks: one SQLite row and index entries per span cost ~20 us on the
// writer thread (68k instructions, 89% in SQLite); a block costs a few SQLite
// rows for hundreds of spans, and queries read the 72-byte records instead of
// whole rows.
//
// Invariants: BlockView::Parse accepts any bytes and either fails or yields
// records whose offsets and indexes all lie inside the blobs (a corrupt blob
// never makes a reader crash). Records are stored in host byte order, which
// must be little-endian (checked at compile time).
//
// Thread-compatible.

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tracewire::store {

static_assert(std::endian::native == std::endian::little,
              "span blocks store their records in little-endian order");

// A 64-bit key of a 16-byte trace id, well spread whatever part of the id
// its generator made random (some put a timestamp first).
uint64_t TraceKey(std::string_view trace_id);

// One span's record in a block (72 bytes, stored as is).
struct SpanRecord {
  char trace_id[16];
  char span_id[8];
  int64_t start_ns;
  int64_t duration_ns;
  uint32_t data_offset, data_size;  // the raw span inside the data blob
  uint32_t service, name;           // dictionary indexes
  uint32_t attrs_begin;             // first of its chosen attributes
  uint16_t attrs_count;
  uint8_t kind, status;  // status: 0 unset, 1 ok, 2 error
  uint8_t has_parent;
  uint8_t unused[3];
  uint32_t origin;  // index into origins
};
static_assert(sizeof(SpanRecord) == 72);

// A block summary for one key: all spans (kind kAll, value ""), a service, a
// span name, or a chosen attribute (value: key, '\x1f', value as text).
struct BlockKey {
  enum Kind : int { kAll = 0, kService = 1, kName = 2, kAttribute = 3 };
  int kind = kAll;
  std::string value;
  int64_t spans = 0, errors = 0;
  int64_t min_start_ns = 0, max_start_ns = 0, max_duration_ns = 0;
};
std::string AttributeKeyValue(std::string_view key, std::string_view value);

// Builds one block from spans added in order.
class BlockBuilder {
 public:
  struct Span {
    std::string_view raw, trace_id, span_id, parent_span_id, name, service;
    int64_t start_ns = 0, duration_ns = 0;
    uint32_t kind = 0, status = 0;
    int64_t resource_id = 0, scope_id = 0;
    // The chosen attributes, as (key, value as text).
    const std::pair<std::string, std::string>* attributes = nullptr;
    size_t attribute_count = 0;
  };
  void Add(const Span& span);
  int64_t spans() const { return static_cast<int64_t>(records_.size()); }
  int64_t bytes() const { return static_cast<int64_t>(data_.size()); }
  const std::vector<uint64_t>& keys() const { return keys_; }

  // The blobs and summaries of the block so far.
  std::string Keys() const;
  std::string Cols() const;
  const std::string& Data() const { return data_; }
  std::vector<BlockKey> Summaries() const;

  void Clear();

 private:
  uint32_t Intern(std::string_view s);
  // `index`: a dictionary index, or (key << 30 | value) for an attribute.
  void Summarize(int kind, uint64_t index, const SpanRecord& r);

  std::vector<SpanRecord> records_;
  std::vector<uint64_t> keys_;
  std::vector<std::pair<uint32_t, uint32_t>> attr_pairs_;
  std::vector<std::pair<int64_t, int64_t>> origins_;
  std::vector<std::string> dict_;
  absl::flat_hash_map<std::string, uint32_t> dict_index_;
  std::string data_;
  // Per (kind << 60 | index): the summary so far.
  absl::flat_hash_map<uint64_t, BlockKey> summaries_;
};

// The data blob as stored: the raw spans compressed with zstd (level 1; the
// spans of a block share most of their attribute keys and values), and back.
// DecompressData fails with DataLoss on anything but a frame of at most
// 1 GiB (a damaged blob never makes a reader allocate without bound).
std::string CompressData(std::string_view raw);
absl::StatusOr<std::string> DecompressData(std::string_view stored);

// Reads a block's cols blob (and, for raw spans, its data blob).
class BlockView {
 public:
  absl::Status Parse(std::string_view cols);
  size_t size() const { return count_; }
  // The i-th record (zeros past the end); its attrs_count is cut to the
  // block's attribute pairs.
  SpanRecord record(size_t i) const;
  std::string_view str(uint32_t index) const;
  std::pair<uint32_t, uint32_t> attribute(uint32_t i) const;  // (key, value) strings
  std::pair<int64_t, int64_t> origin(uint32_t i) const;       // (resource id, scope id)
  // The raw span of `r` inside `data` (empty when out of bounds).
  static std::string_view Raw(const SpanRecord& r, std::string_view data);

 private:
  std::string_view cols_;
  size_t count_ = 0, dict_count_ = 0, attr_count_ = 0, origin_count_ = 0;
  size_t dict_offsets_ = 0, dict_bytes_ = 0, records_ = 0, attrs_ = 0, origins_ = 0;
};

// A block read back from its row, for the reader and for compaction: copies
// of the blobs (a row's memory is SQLite's only until its statement moves
// on), the data decompressed, the columns parsed. Not copyable or movable:
// `view` points into `cols`.
struct StoredBlock {
  StoredBlock() = default;
  StoredBlock(const StoredBlock&) = delete;
  StoredBlock& operator=(const StoredBlock&) = delete;

  // Without `stored_data` the data is not read (`data` stays empty).
  // DataLoss saying what is damaged when a blob is.
  absl::Status Load(std::string_view stored_cols,
                    std::optional<std::string_view> stored_data = std::nullopt);

  std::string cols, data;  // data: the raw spans, decompressed
  BlockView view;
};

}  // namespace tracewire::store
