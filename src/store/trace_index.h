#pragma once
// The store's trace index: which span blocks hold a trace id's spans.
//
// The writer collects a (TraceKey, block id) entry per span in memory. Once
// `index_run_spans` entries have gathered, it writes them as a run: sorted,
// split by the key's top kPartBits bits into parts, one SQLite row per
// (part, run) in `trace_parts`, and one row in `trace_runs` naming the blocks
// the run covers. A lookup reads one part row per run and binary-searches it,
// then scans the keys of the blocks after the last run (at most one run's
// worth): a few dozen small rows for ten million spans, and no per-span
// B-tree insert on the writer's path (inserting random keys into one large
// B-tree rewrote most of its pages on every commit as the store grew).
// A crash loses no entry: the writer rebuilds the unwritten run from the
// blocks after the last run when it opens.
//
// Entries may name blocks since deleted (retention removes a run only once
// all its blocks are gone), and a key may match other traces (64 bits of a
// 128-bit id): callers check the full trace id in the block's records.
//
// Pure functions: thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracewire::store {

inline constexpr int kPartBits = 10;

struct IndexEntry {
  uint64_t key;
  int64_t block;
};

inline int PartOf(uint64_t key) { return static_cast<int>(key >> (64 - kPartBits)); }

// Sorts `entries` and encodes them as (part, blob) pairs, parts ascending,
// each blob the part's entries as 16-byte (key, block) pairs in key order.
std::vector<std::pair<int, std::string>> EncodeRun(std::vector<IndexEntry>* entries);

// Appends the blocks of `part_blob`'s entries whose key is `key`.
void FindInPart(std::string_view part_blob, uint64_t key, std::vector<int64_t>* blocks);

// True if any of the 8-byte keys in `keys_blob` (a block's keys) is `key`.
bool KeysContain(std::string_view keys_blob, uint64_t key);

}  // namespace tracewire::store
