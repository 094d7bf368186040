// Span storage: the compact encoding, per-thread ActiveSpans and chunks.
//
// Documented thread_locals (STYLE.md): the free list of ActiveSpans and the
// current chunk (ThreadSpanState), and the guard that frees them when the
// thread exits. They are the thread's own; nothing else reads them.

#include "sdk/trace/span_record.h"

#include <algorithm>
#include <array>
#include <vector>

#include "common/mpmc_queue.h"
#include "sdk/trace/span_ref_access.h"
#include "sdk/trace/string_table.h"
#include "wire/wire_primitives.h"

namespace tracewire::sdk {

// ---- ByteBuf -----------------------------------------------------------------

void ByteBuf::Grow(size_t need) {
  size_t cap = std::max<size_t>(64, cap_ * 2);
  while (cap < need) cap *= 2;
  char* p = static_cast<char*>(std::realloc(p_, cap));
  if (p == nullptr) std::abort();  // out of memory, as operator new would
  p_ = p;
  cap_ = cap;
}

void ByteBuf::Replace(size_t pos, size_t len, const char* d, size_t n) {
  const size_t tail = size_ - pos - len;
  if (n > len) Reserve(n - len);
  std::memmove(p_ + pos + n, p_ + pos + len, tail);
  std::memcpy(p_ + pos, d, n);
  size_ = pos + n + tail;
}

// ---- Writers -------------------------------------------------------------

void PutStr(ByteBuf* b, std::string_view s) {
  char* w = b->Reserve(kMaxVarint + s.size());
  w = PutVarint(w, s.size());
  b->Commit(wire::PutRaw(w, s.data(), s.size()));
}

void PutKeyRef(ByteBuf* b, uint32_t id, std::string_view key) {
  b->Commit(PutKeyAt(b->Reserve(1 + kMaxVarint + key.size()), id, key));
}

void PutValue(ByteBuf* b, const AnyValue& v, uint32_t length_limit) {
  switch (v.value.index()) {
    case 0: {
      char* w = b->Reserve(1);
      *w = static_cast<char>(kTagEmpty);
      b->Commit(w + 1);
      return;
    }
    case 1: {
      std::string_view s = std::get<std::string>(v.value);
      s = s.substr(0, std::min<size_t>(s.size(), length_limit));
      b->Commit(PutStringAt(b->Reserve(1 + kMaxVarint + s.size()), kTagString, s));
      return;
    }
    case 2:
      b->Commit(PutBoolAt(b->Reserve(1), std::get<bool>(v.value)));
      return;
    case 3:
      b->Commit(PutIntAt(b->Reserve(kMaxScalar), std::get<int64_t>(v.value)));
      return;
    case 4:
      b->Commit(PutDoubleAt(b->Reserve(9), std::get<double>(v.value)));
      return;
    case 5: {
      const auto& a = std::get<AnyValue::Array>(v.value);
      char* w = b->Reserve(kMaxScalar);
      *w++ = static_cast<char>(kTagArray);
      b->Commit(PutVarint(w, a.size()));
      for (const AnyValue& e : a) PutValue(b, e, length_limit);
      return;
    }
    case 6: {
      const auto& kv = std::get<AnyValue::KvList>(v.value);
      char* w = b->Reserve(kMaxScalar);
      *w++ = static_cast<char>(kTagKvList);
      b->Commit(PutVarint(w, kv.size()));
      for (const KeyValue& e : kv) {
        PutKeyRef(b, 0, e.key);
        PutValue(b, e.value, length_limit);
      }
      return;
    }
    case 7: {
      const std::string& d = std::get<Bytes>(v.value).data;
      b->Commit(PutStringAt(b->Reserve(1 + kMaxVarint + d.size()), kTagBytes, d));
      return;
    }
  }
}

void PutAttributes(ByteBuf* b, const Attributes& attrs, uint32_t count, uint32_t length_limit) {
  for (uint32_t i = 0; i < count; ++i) {
    PutKeyRef(b, StringTable::Intern(attrs[i].key), attrs[i].key);
    PutValue(b, attrs[i].value, length_limit);
  }
}

// ---- RecordReader ----------------------------------------------------------

uint64_t RecordReader::VarintSlow() {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t c = static_cast<uint8_t>(*p_++);
    v |= static_cast<uint64_t>(c & 0x7f) << shift;
    if (c < 0x80) return v;
  }
}

void RecordReader::Value(AnyValue* out) {
  const uint8_t tag = static_cast<uint8_t>(*p_++);
  switch (tag) {
    case kTagString: {
      std::string_view s = Str();
      if (auto* str = std::get_if<std::string>(&out->value)) {
        str->assign(s.data(), s.size());
      } else {
        out->value.emplace<std::string>(s);
      }
      return;
    }
    case kTagFalse:
      out->value = false;
      return;
    case kTagTrue:
      out->value = true;
      return;
    case kTagInt:
      out->value = UnZigZag(Varint());
      return;
    case kTagDouble: {
      double d;
      std::memcpy(&d, Raw(8), 8);
      out->value = d;
      return;
    }
    case kTagBytes:
      out->value = Bytes{std::string(Str())};
      return;
    case kTagArray: {
      AnyValue::Array a(Varint());
      for (AnyValue& e : a) Value(&e);
      out->value = std::move(a);
      return;
    }
    case kTagKvList: {
      AnyValue::KvList kv(Varint());
      for (KeyValue& e : kv) {
        e.key = std::string(KeyRef());
        Value(&e.value);
      }
      out->value = std::move(kv);
      return;
    }
    default:
      out->value = std::monostate();
      return;
  }
}

void RecordReader::SkipValue() {
  const uint8_t tag = static_cast<uint8_t>(*p_++);
  switch (tag) {
    case kTagString:
    case kTagBytes:
      (void)Str();
      return;
    case kTagInt:
      (void)Varint();
      return;
    case kTagDouble:
      p_ += 8;
      return;
    case kTagArray:
      for (uint64_t n = Varint(); n > 0; --n) SkipValue();
      return;
    case kTagKvList:
      for (uint64_t n = Varint(); n > 0; --n) {
        (void)KeyRef();
        SkipValue();
      }
      return;
    default:
      return;
  }
}

void RecordReader::Attributes(uint64_t count, tracewire::Attributes* out) {
  out->resize(count);
  for (KeyValue& kv : *out) {
    std::string_view k = KeyRef();
    kv.key.assign(k.data(), k.size());
    Value(&kv.value);
  }
}

// ---- ActiveSpan free list ------------------------------------------------

namespace {

// Per-thread state, trivially destructible so that it stays usable while the
// thread's other thread_locals are destroyed (a span may end in one of their
// destructors). ThreadExit frees what it holds and marks it exited; after
// that, nothing more is kept.
struct Chunk;
struct ThreadSpanState {
  static constexpr int kMaxFree = 16;  // more than a thread nests, usually
  ActiveSpan* free[kMaxFree] = {};
  int free_count = 0;
  bool exited = false;
  Chunk* chunk = nullptr;  // the chunk records are appended to
  size_t used = 0;         // bytes of it in use
  int64_t records = 0;     // records put in it
  uint32_t home = 0;       // 1 + the spare-chunk queue this thread uses (0: not chosen yet)
};
thread_local constinit ThreadSpanState tls;

void CloseChunk();

struct ThreadExit {
  void Touch() {}
  ~ThreadExit() {
    for (int i = 0; i < tls.free_count; ++i) delete tls.free[i];
    tls.free_count = 0;
    CloseChunk();
    tls.exited = true;
  }
};
thread_local ThreadExit thread_exit;  // built on first use; its destructor runs at thread exit

}  // namespace

InternedKey ActiveSpan::InternAndRemember(std::string_view s, uint32_t i) {
  bool immutable;
  const InternedKey key{StringTable::Intern(s, &immutable), KeyBitOf(s)};
  if (i < kMemo) {
    memo[i] = immutable ? Memo{s.data(), static_cast<uint32_t>(s.size()), key} : Memo{};
  }
  return key;
}

ActiveSpan* ActiveSpan::Acquire() {
  if (tls.free_count == 0) {
    if (!tls.exited) thread_exit.Touch();  // registers the cleanup
    return new ActiveSpan();
  }
  return tls.free[--tls.free_count];
}

void ActiveSpan::Recycle(ActiveSpan* a) {
  a->trace_state.Clear();
  a->status_message.Clear();
  a->attrs.Clear();
  a->events.Clear();
  a->links.Clear();
  a->attr_count = a->dropped_attrs = 0;
  a->event_count = a->dropped_events = 0;
  a->link_count = a->dropped_links = 0;
  a->key_bits[0] = a->key_bits[1] = 0;
  a->intern_calls = 0;
  a->status = StatusCode::kUnset;
  // A span that grew big buffers (a large value) is not kept: the free list
  // would hold that memory for the thread's lifetime.
  constexpr size_t kMaxKept = 64 << 10;
  const bool big = a->attrs.capacity() > kMaxKept || a->events.capacity() > kMaxKept ||
                   a->links.capacity() > kMaxKept || a->name.capacity() > kMaxKept ||
                   a->trace_state.capacity() > kMaxKept || a->status_message.capacity() > kMaxKept;
  if (tls.free_count < ThreadSpanState::kMaxFree && !big && !tls.exited) {
    tls.free[tls.free_count++] = a;
  } else {
    delete a;
  }
}

// ---- Chunks --------------------------------------------------------------

namespace {

constexpr size_t kChunkSize = 64 << 10;  // also the alignment
// `live` holds this bias while the chunk's thread still writes into it.
constexpr int64_t kOpenBias = int64_t{1} << 40;

struct alignas(16) Chunk {
  std::atomic<int64_t> live;  // records not yet released, plus kOpenBias while open
  size_t size;                // bytes, this header included
  // Set (relaxed) once any record here got a second reference or was
  // decoded (MarkShared). While it is clear, a batch holding the only
  // reference to each record releases them without reading them.
  std::atomic<bool> shared;
  uint8_t home;  // the spare-chunk queue it goes back to
};

// Freed chunks wait for reuse, up to kSpareChunks (4 MiB): freeing and
// allocating 64 KiB blocks in turn made the allocator return the pages to
// the kernel and fault them in again, at a page fault per 20 spans.
//
// There are kHomes queues, and threads are spread over them in the order
// they first allocate a chunk. A chunk goes back to the queue of the thread
// that wrote it (whichever thread frees it), so that thread reuses it: its
// lines are still in that core's cache. From one shared queue, two threads
// ending spans on two cores took each other's chunks half the time, and
// every line of a record was then fetched from the other core first
// (2 threads: 9.2 M -> 10.7 M spans/s).
constexpr size_t kSpareChunks = 64;
constexpr uint32_t kHomes = 4;
common::MpmcQueue<void*>& SpareChunks(uint32_t home) {
  static auto* queues = [] {  // never destroyed
    auto* q = new std::array<common::MpmcQueue<void*>*, kHomes>;
    for (auto& one : *q) one = new common::MpmcQueue<void*>(kSpareChunks / kHomes);
    return q;
  }();
  return *(*queues)[home];
}

// This thread's spare-chunk queue.
uint32_t MyHome() {
  static std::atomic<uint32_t> threads{0};
  if (tls.home == 0) [[unlikely]]
    tls.home = threads.fetch_add(1, std::memory_order_relaxed) % kHomes + 1;
  return tls.home - 1;
}

std::atomic<int64_t> chunks_in_use{0};  // relaxed: a statistic

Chunk* NewChunk(size_t size, int64_t live) {
  chunks_in_use.fetch_add(1, std::memory_order_relaxed);
  const uint32_t home = MyHome();
  void* p = nullptr;
  if (size != kChunkSize || !SpareChunks(home).TryPop(&p)) {
    p = std::aligned_alloc(kChunkSize, size);
    if (p == nullptr) std::abort();
  }
  return new (p) Chunk{{live}, size, {false}, static_cast<uint8_t>(home)};
}

// `size`: kChunkSize, or more for a chunk that holds one big span.
void FreeChunk(Chunk* c, size_t size) {
  chunks_in_use.fetch_sub(1, std::memory_order_relaxed);
  if (size != kChunkSize || !SpareChunks(c->home).TryPush(c)) std::free(c);
}

Chunk* ChunkOf(const RecordedSpan* r) {
  return reinterpret_cast<Chunk*>(reinterpret_cast<uintptr_t>(r) & ~(kChunkSize - 1));
}

// Takes n from a chunk's count; frees it when that was the last of it.
void DropFromChunk(Chunk* c, int64_t n) {
  if (c->live.fetch_sub(n, std::memory_order_acq_rel) == n) FreeChunk(c, c->size);
}

void CloseChunk() {
  if (tls.chunk == nullptr) return;
  DropFromChunk(tls.chunk, kOpenBias - tls.records);
  tls.chunk = nullptr;
}

// Destroys a record whose last reference went; returns its chunk, which
// the caller then drops it from.
Chunk* Destroy(RecordedSpan* r) {
  if (SpanData* d = r->materialized.load(std::memory_order_acquire)) delete d;
  Chunk* c = ChunkOf(r);
  r->~RecordedSpan();
  return c;
}

// Room for a record of n bytes in this thread's chunk.
void* AllocRecord(size_t n) {
  n = (n + 7) & ~size_t{7};
  if (sizeof(Chunk) + n > kChunkSize || tls.exited) {
    // A span too big for a chunk, or ended while its thread exits, gets a
    // chunk of its own.
    const size_t size = (sizeof(Chunk) + n + kChunkSize - 1) & ~(kChunkSize - 1);
    return NewChunk(size, 1) + 1;
  }
  if (tls.chunk == nullptr || tls.used + n > kChunkSize) {
    CloseChunk();
    thread_exit.Touch();  // closes the last chunk when the thread exits
    tls.chunk = NewChunk(kChunkSize, kOpenBias);
    tls.used = sizeof(Chunk);
    tls.records = 0;
  }
  void* p = reinterpret_cast<char*>(tls.chunk) + tls.used;
  tls.used += n;
  ++tls.records;
  return p;
}

// Gives back the end of the record AllocRecord(n) returned last on this
// thread, of which only `used` bytes were written.
void TrimLastRecord(void* p, size_t n, size_t used) {
  n = (n + 7) & ~size_t{7};
  used = (used + 7) & ~size_t{7};
  if (tls.chunk != nullptr && reinterpret_cast<char*>(tls.chunk) + tls.used - n == p) {
    tls.used -= n - used;
  }
  // (A record in a chunk of its own keeps its few spare bytes.)
}

}  // namespace

int64_t ChunksInUse() { return chunks_in_use.load(std::memory_order_relaxed); }

void MarkShared(RecordedSpan* r) {
  Chunk* c = ChunkOf(r);
  if (!c->shared.load(std::memory_order_relaxed)) c->shared.store(true, std::memory_order_relaxed);
}

void ReleaseAll(std::vector<SpanRef>* refs) {
  Chunk* run = nullptr;  // the chunk of the records released last
  bool run_shared = false;
  int64_t run_count = 0;
  auto flush = [&run, &run_count] {
    if (run != nullptr && run_count != 0) DropFromChunk(run, run_count);
  };
  for (SpanRef& ref : *refs) {
    RecordedSpan* r = SpanRefAccess::Release(ref);
    if (r == nullptr) continue;
    Chunk* c = ChunkOf(r);
    if (c != run) {
      flush();
      run = c;
      run_count = 0;
      // A second reference is made, and a record decoded, only by a holder:
      // by this thread, or by one that handed the record on to this thread
      // afterwards (through the queue), so the flag, if set, is seen here.
      run_shared = c->shared.load(std::memory_order_relaxed);
    }
    if (run_shared) {
      // acquire: see the writes of owners that released before. Holding
      // the only reference, nobody can add one: no atomic decrement needed.
      if (r->refs.load(std::memory_order_acquire) != 1 &&
          r->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
        continue;  // others still hold it
      }
      Destroy(r);
    }
    // (Not shared: this was the only reference and nothing was decoded; a
    // record needs no destruction of its own, so it is not even read.)
    ++run_count;
  }
  flush();
  refs->clear();
}

void RecordedSpan::Release(RecordedSpan* r) { DropFromChunk(Destroy(r), 1); }

static char* SealBody(const ActiveSpan& a, char* w);

RecordedSpan* Seal(const ActiveSpan& a, uint64_t end_time) {
  // Room for the most the body can take (two lengths, six 32-bit counts);
  // what is left over is given back once the body is written.
  const size_t bound = a.name.size() + a.trace_state.size() + a.status_message.size() +
                       a.attrs.size() + a.events.size() + a.links.size() + 2 * kMaxVarint + 6 * 5;
  void* mem = AllocRecord(sizeof(RecordedSpan) + bound);
  auto* r = new (mem) RecordedSpan();
  r->tracer = a.tracer;
  r->trace_id = a.trace_id;
  r->span_id = a.span_id;
  r->parent_span_id = a.parent_span_id;
  r->has_parent = a.has_parent;
  r->start_time_unix_nano = a.start_time_unix_nano;
  r->end_time_unix_nano = end_time;
  r->flags = static_cast<uint16_t>(a.flags);
  r->kind = a.kind;
  r->status = a.status;
  char* w = reinterpret_cast<char*>(r + 1);
  // The common span: a short name, attributes and events under their limits
  // and fewer than 128 of each, no trace state, status message or links.
  // Its counts are one byte each, and the name is copied in two fixed moves
  // (a ByteBuf holding bytes has at least 64 of capacity, and `bound` leaves
  // room past the name).
  if ((a.trace_state.size() | a.status_message.size() | a.links.size() | a.dropped_attrs |
       a.dropped_events | a.dropped_links) == 0 &&
      a.name.size() - 1 < 16 && (a.attr_count | a.event_count) < 128) {
    uint64_t n0, n1;
    std::memcpy(&n0, a.name.data(), 8);
    std::memcpy(&n1, a.name.data() + 8, 8);
    std::memcpy(w, &n0, 8);
    std::memcpy(w + 8, &n1, 8);
    w += a.name.size();
    w[0] = 0;  // trace state
    w[1] = 0;  // status message
    w[2] = 0;  // dropped attributes
    w[3] = static_cast<char>(a.attr_count);
    w = wire::PutRaw(w + 4, a.attrs.data(), a.attrs.size());
    w[0] = 0;  // dropped events
    w[1] = static_cast<char>(a.event_count);
    w = wire::PutRaw(w + 2, a.events.data(), a.events.size());
    w[0] = 0;  // dropped links
    w[1] = 0;  // links
    w += 2;
  } else {
    w = SealBody(a, w);
  }
  const size_t body = static_cast<size_t>(w - reinterpret_cast<char*>(r + 1));
  r->body_size = static_cast<uint32_t>(body);
  TrimLastRecord(mem, sizeof(RecordedSpan) + bound, sizeof(RecordedSpan) + body);
  return r;
}

// Seal's general case: writes the body at w and returns its end.
static char* SealBody(const ActiveSpan& a, char* w) {
  auto copy = [&w](const ByteBuf& b) { w = wire::PutRaw(w, b.data(), b.size()); };
  copy(a.name);
  w = PutVarint(w, a.trace_state.size());
  copy(a.trace_state);
  w = PutVarint(w, a.status_message.size());
  copy(a.status_message);
  w = PutVarint(w, a.dropped_attrs);
  w = PutVarint(w, a.attr_count);
  copy(a.attrs);
  w = PutVarint(w, a.dropped_events);
  w = PutVarint(w, a.event_count);
  copy(a.events);
  w = PutVarint(w, a.dropped_links);
  w = PutVarint(w, a.link_count);
  copy(a.links);
  return w;
}

void Materialize(const RecordedSpan& r, SpanData* out) {
  out->trace_id = r.trace_id;
  out->span_id = r.span_id;
  if (r.has_parent) {
    out->parent_span_id = r.parent_span_id;
  } else {
    out->parent_span_id.reset();
  }
  out->flags = r.flags;
  out->kind = r.kind;
  out->start_time_unix_nano = r.start_time_unix_nano;
  out->end_time_unix_nano = r.end_time_unix_nano;
  out->status_code = r.status;
  RecordReader rd(r.body(), r.body() + r.body_size);
  std::string_view name = rd.KeyRef();
  out->name.assign(name.data(), name.size());
  std::string_view ts = rd.Str();
  out->trace_state.assign(ts.data(), ts.size());
  std::string_view msg = rd.Str();
  out->status_message.assign(msg.data(), msg.size());
  out->dropped_attributes_count = static_cast<uint32_t>(rd.Varint());
  rd.Attributes(rd.Varint(), &out->attributes);
  out->dropped_events_count = static_cast<uint32_t>(rd.Varint());
  out->events.resize(rd.Varint());
  for (SpanEvent& e : out->events) {
    e.time_unix_nano = r.start_time_unix_nano + static_cast<uint64_t>(UnZigZag(rd.Varint()));
    std::string_view en = rd.KeyRef();
    e.name.assign(en.data(), en.size());
    e.dropped_attributes_count = static_cast<uint32_t>(rd.Varint());
    rd.Attributes(rd.Varint(), &e.attributes);
  }
  out->dropped_links_count = static_cast<uint32_t>(rd.Varint());
  out->links.resize(rd.Varint());
  for (SpanLink& k : out->links) {
    std::memcpy(k.trace_id.data(), rd.Raw(16), 16);
    std::memcpy(k.span_id.data(), rd.Raw(8), 8);
    k.flags = static_cast<uint32_t>(rd.Varint());
    std::string_view lts = rd.Str();
    k.trace_state.assign(lts.data(), lts.size());
    k.dropped_attributes_count = static_cast<uint32_t>(rd.Varint());
    rd.Attributes(rd.Varint(), &k.attributes);
  }
}

}  // namespace tracewire::sdk
