#pragma once
// How the SDK stores spans.
//
// While a span records, its attributes, events and links are written into
// an ActiveSpan: flat byte buffers in a compact encoding (below) with keys
// and names as StringTable ids. ActiveSpans are few and reused per thread,
// so they stay in the recording core's cache.
//
// End() seals the span into a RecordedSpan: a fixed header followed by the
// body bytes, appended to the ending thread's current chunk (64 KiB, found
// from a record's address). The ActiveSpan is reused at once; the record is
// what processors queue. A chunk is freed when its thread has moved on from
// it and every record in it has been released, so the memory a queued span
// costs is its record (about 180 bytes for the standard span).
//
// Compact encoding (all integers are LEB128 varints unless noted):
//   str      = len, bytes
//   keyref   = id (1 and up: a StringTable id) | 0, str
//   value    = tag, payload: kEmpty | kString str | kFalse | kTrue |
//              kInt zigzag | kDouble 8 bytes | kBytes str |
//              kArray count, value... | kKvList count, (keyref value)...
//   attr     = keyref value
//   event    = zigzag(time - span start), keyref name, dropped, count, attr...
//   link     = trace id (16 bytes), span id (8 bytes), flags, str trace_state,
//              dropped, count, attr...
//   body     = keyref name, str trace_state, str status_message,
//              dropped, count, attr..., dropped, count, event...,
//              dropped, count, link...
//
// Thread safety: an ActiveSpan belongs to the one thread that holds its
// Span. A RecordedSpan is immutable once sealed, except `refs` and
// `materialized`, which are atomic; any thread may release it.

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "sdk/trace/string_table.h"
#include "tracewire/telemetry_data.h"
#include "tracewire/trace.h"
#include "wire/wire_primitives.h"

namespace tracewire::sdk {

class ProviderState;

// A growable byte buffer that keeps its capacity when cleared.
class ByteBuf {
 public:
  ByteBuf() = default;
  ByteBuf(const ByteBuf&) = delete;
  ByteBuf& operator=(const ByteBuf&) = delete;
  ~ByteBuf() { std::free(p_); }

  // A pointer to write up to n bytes at the end; Commit(end) adopts them.
  char* Reserve(size_t n) {
    if (size_ + n > cap_) Grow(size_ + n);
    return p_ + size_;
  }
  void Commit(char* end) { size_ = static_cast<size_t>(end - p_); }
  // Whether n more bytes fit without growing; then end() is where they go.
  bool HasRoom(size_t n) const { return size_ + n <= cap_; }
  char* end() { return p_ + size_; }
  void Append(const void* d, size_t n) {
    char* w = Reserve(n);
    if (n) std::memcpy(w, d, n);
    size_ += n;
  }
  // Replaces [pos, pos + len) with n bytes from d.
  void Replace(size_t pos, size_t len, const char* d, size_t n);
  void Clear() { size_ = 0; }
  const char* data() const { return p_; }
  char* mutable_data() { return p_; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }

 private:
  void Grow(size_t need);
  char* p_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

enum ValueTag : uint8_t {
  kTagEmpty = 0,
  kTagString = 1,
  kTagFalse = 2,
  kTagTrue = 3,
  kTagInt = 4,
  kTagDouble = 5,
  kTagBytes = 6,
  kTagArray = 7,
  kTagKvList = 8,
};

using wire::PutVarint;
constexpr size_t kMaxVarint = 10;
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Writers at a pointer the caller reserved room at; each returns the end.
// A key as `id` when id != 0, else as its bytes: at most
// 1 + kMaxVarint + key.size() bytes.
inline char* PutKeyAt(char* w, uint32_t id, std::string_view key) {
  if (id != 0) return PutVarint(w, id);
  *w++ = 0;
  w = PutVarint(w, key.size());
  return wire::PutRaw(w, key.data(), key.size());
}
// Scalar values: at most kMaxScalar bytes, a string 1 + kMaxVarint + size.
constexpr size_t kMaxScalar = 1 + kMaxVarint;
inline char* PutStringAt(char* w, uint8_t tag, std::string_view v) {
  *w++ = static_cast<char>(tag);  // kTagString or kTagBytes
  w = PutVarint(w, v.size());
  return wire::PutRaw(w, v.data(), v.size());  // short values without a memcpy call
}
inline char* PutIntAt(char* w, int64_t v) {
  *w++ = static_cast<char>(kTagInt);
  return PutVarint(w, ZigZag(v));
}
inline char* PutDoubleAt(char* w, double d) {
  *w++ = static_cast<char>(kTagDouble);
  std::memcpy(w, &d, 8);
  return w + 8;
}
inline char* PutBoolAt(char* w, bool b) {
  *w++ = static_cast<char>(b ? kTagTrue : kTagFalse);
  return w;
}

// Writers into a buffer. `length_limit` truncates strings (also inside
// arrays and maps).
void PutStr(ByteBuf* b, std::string_view s);
// Writes the key as `id` when id != 0, else as its bytes.
void PutKeyRef(ByteBuf* b, uint32_t id, std::string_view key);
void PutValue(ByteBuf* b, const AnyValue& v, uint32_t length_limit);
void PutAttributes(ByteBuf* b, const Attributes& attrs, uint32_t count, uint32_t length_limit);

// Sequential reader over bytes written by the writers above.
class RecordReader {
 public:
  RecordReader(const char* p, const char* end) : p_(p), end_(end) {}
  uint64_t Varint() {
    const uint8_t c = static_cast<uint8_t>(*p_);
    if (c < 0x80) {
      ++p_;
      return c;
    }
    const uint8_t c2 = static_cast<uint8_t>(p_[1]);  // two bytes: small ints, event times
    if (c2 < 0x80) {
      p_ += 2;
      return (c & 0x7fu) | static_cast<uint64_t>(c2) << 7;
    }
    return VarintSlow();
  }
  std::string_view Str() {
    const size_t n = Varint();
    return std::string_view(Raw(n), n);
  }
  std::string_view KeyRef() {
    const uint64_t id = Varint();
    return id != 0 ? StringTable::Get(static_cast<uint32_t>(id)) : Str();
  }
  const char* Raw(size_t n) {
    const char* r = p_;
    p_ += n;
    return r;
  }
  void Value(AnyValue* out);
  void SkipValue();
  void Attributes(uint64_t count, tracewire::Attributes* out);
  const char* pos() const { return p_; }
  bool done() const { return p_ >= end_; }

 private:
  uint64_t VarintSlow();
  const char* p_;
  const char* end_;
};

// One bit of ActiveSpan::key_bits per attribute key, from its length, first
// and last bytes (never its id: a key may be stored by id once and as bytes
// once, when the string table is full). A clear bit proves the key is new,
// so the common case skips the search for a duplicate.
struct KeyBit {
  uint32_t word = 0;
  uint64_t bit = 0;
};
inline KeyBit KeyBitOf(std::string_view key) {
  const size_t h = key.size() * 7 + (key.empty() ? 0
                                                 : static_cast<unsigned char>(key.back()) +
                                                       static_cast<unsigned char>(key[0]) * 3);
  return {static_cast<uint32_t>((h >> 6) & 1), uint64_t{1} << (h & 63)};
}

// A name or key's string-table id (0: stored as bytes) and its KeyBit.
struct InternedKey {
  uint32_t id;
  KeyBit bit;
};

// The span being recorded.
struct ActiveSpan {
  const Tracer* tracer = nullptr;
  ProviderState* provider = nullptr;
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};
  bool has_parent = false;
  SpanKind kind = SpanKind::kInternal;
  StatusCode status = StatusCode::kUnset;
  uint32_t flags = 0;
  uint64_t start_time_unix_nano = 0;
  ByteBuf name;  // a keyref
  ByteBuf trace_state;
  ByteBuf status_message;
  ByteBuf attrs;
  ByteBuf events;
  ByteBuf links;
  uint32_t attr_count = 0, dropped_attrs = 0;
  uint32_t event_count = 0, dropped_events = 0;
  uint32_t link_count = 0, dropped_links = 0;
  uint64_t key_bits[2] = {0, 0};  // one bit per attribute key (KeyBit)
  // The provider's limits, copied at the start: one load, not two.
  uint32_t attribute_count_limit = 0;
  uint32_t value_length_limit = 0;
  uint32_t event_count_limit = 0;
  uint32_t attributes_per_event_limit = 0;

  // StringTable::Intern for this span's names and keys, remembering the
  // literals of the span this ActiveSpan recorded before, by call order:
  // the same code ending the same kind of span again finds its n-th key at
  // the n-th place, and needs neither the table nor its cache.
  InternedKey Intern(std::string_view s) {
    const uint32_t i = intern_calls++;
    if (i < kMemo && memo[i].ptr == s.data() && memo[i].len == s.size()) return memo[i].key;
    return InternAndRemember(s, i);
  }
  InternedKey InternAndRemember(std::string_view s, uint32_t i);
  static constexpr uint32_t kMemo = 16;
  struct Memo {
    const char* ptr = nullptr;  // a literal's address (never a mutable buffer)
    uint32_t len = UINT32_MAX;  // matches no string while unset
    InternedKey key{};
  };
  Memo memo[kMemo];
  uint32_t intern_calls = 0;  // in this span

  // A cleared span from this thread's free list (or a new one).
  static ActiveSpan* Acquire();
  // Back to this thread's free list.
  static void Recycle(ActiveSpan* a);
};

// A finished span: this header, then the body.
struct RecordedSpan {
  std::atomic<int32_t> refs{1};  // SpanRefs alive; acq_rel on release
  uint32_t body_size = 0;
  const Tracer* tracer = nullptr;
  std::atomic<SpanData*> materialized{nullptr};  // SpanRef::data(), made once
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  uint16_t flags = 0;
  SpanKind kind = SpanKind::kInternal;
  StatusCode status = StatusCode::kUnset;
  bool has_parent = false;

  const char* body() const { return reinterpret_cast<const char*>(this + 1); }
  // Called by the last SpanRef.
  static void Release(RecordedSpan* r);
};

// Notes that `r` has more than one reference or a decoded copy, which
// ReleaseAll must then look at. Called before the reference or the copy is
// made, by a thread holding a reference.
void MarkShared(RecordedSpan* r);

// Releases the references `refs` hold (and empties it), as destroying them
// would, with fewer atomic operations: a record the batch held alone needs
// no atomic decrement, and records of one chunk are released from it at once.
void ReleaseAll(std::vector<SpanRef>* refs);

// Seals `a` (ended at `end_time`) into a record in this thread's chunk; the
// record holds one reference.
RecordedSpan* Seal(const ActiveSpan& a, uint64_t end_time);

// Decodes a record into *out, reusing out's storage.
void Materialize(const RecordedSpan& r, SpanData* out);

// Chunks allocated and not yet freed or set aside for reuse: one per thread
// that has ended a span and is alive, plus those that still hold a record
// somebody references.
int64_t ChunksInUse();

}  // namespace tracewire::sdk
