#include "sdk/trace/record_encoder.h"

#include <bit>
#include <cassert>
#include <cstring>

namespace tracewire::sdk {
namespace {

// Field tags (all fields used here are numbered below 16, except Span.flags).
constexpr uint8_t Tag(uint32_t field, uint32_t wire_type) {
  return static_cast<uint8_t>(field << 3 | wire_type);
}
constexpr uint32_t kVarint = 0, kI64 = 1, kLen = 2, kI32 = 5;

size_t VarintSize(uint64_t v) { return static_cast<size_t>(std::bit_width(v | 1) + 6) / 7; }
size_t LdSize(size_t n) { return 1 + VarintSize(n) + n; }
size_t StrFieldSize(std::string_view s) { return s.empty() ? 0 : LdSize(s.size()); }
size_t VarintFieldSize(uint64_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }
size_t Fixed64FieldSize(uint64_t v) { return v == 0 ? 0 : 9; }

char* PutByte(char* p, uint8_t b) {
  *p = static_cast<char>(b);
  return p + 1;
}
char* PutLd(char* p, uint8_t tag, size_t n) { return PutVarint(PutByte(p, tag), n); }
char* PutBytesField(char* p, uint8_t tag, const void* d, size_t n) {
  p = PutLd(p, tag, n);
  std::memcpy(p, d, n);
  return p + n;
}
char* PutStrField(char* p, uint8_t tag, std::string_view s) {
  return s.empty() ? p : PutBytesField(p, tag, s.data(), s.size());
}
char* PutVarintField(char* p, uint8_t tag, uint64_t v) {
  return v == 0 ? p : PutVarint(PutByte(p, tag), v);
}
char* PutFixed64(char* p, uint64_t v) {
  std::memcpy(p, &v, 8);  // little-endian, as the wire format
  return p + 8;
}
char* PutFixed64Field(char* p, uint8_t tag, uint64_t v) {
  return v == 0 ? p : PutFixed64(PutByte(p, tag), v);
}
char* PutFixed32(char* p, uint32_t v) {
  std::memcpy(p, &v, 4);
  return p + 4;
}

uint8_t TakeTag(RecordReader& rd) { return static_cast<uint8_t>(*rd.Raw(1)); }

// ---- Size pass: records nested sizes in pre-order ---------------------------

class Sizer {
 public:
  explicit Sizer(std::vector<uint32_t>* sizes) : sizes_(sizes) {}
  size_t Reserve() {
    sizes_->push_back(0);
    return sizes_->size() - 1;
  }
  void Set(size_t slot, size_t n) { (*sizes_)[slot] = static_cast<uint32_t>(n); }

  // The size of the AnyValue message for the value at rd.
  size_t AnyValue(RecordReader& rd) {
    switch (TakeTag(rd)) {
      case kTagString:
      case kTagBytes:
        return LdSize(rd.Str().size());
      case kTagFalse:
      case kTagTrue:
        return 2;
      case kTagInt:
        return 1 + VarintSize(static_cast<uint64_t>(UnZigZag(rd.Varint())));
      case kTagDouble:
        (void)rd.Raw(8);
        return 9;
      case kTagArray: {
        const size_t slot = Reserve();
        size_t n = 0;
        for (uint64_t c = rd.Varint(); c > 0; --c) n += LdSize(AnyValue(rd));
        Set(slot, n);
        return LdSize(n);
      }
      case kTagKvList: {
        const size_t slot = Reserve();
        size_t n = 0;
        for (uint64_t c = rd.Varint(); c > 0; --c) n += LdSize(KeyValue(rd));
        Set(slot, n);
        return LdSize(n);
      }
      default:  // empty
        return 0;
    }
  }

  size_t KeyValue(RecordReader& rd) {
    const std::string_view key = rd.KeyRef();
    return StrFieldSize(key) + LdSize(AnyValue(rd));
  }

  size_t Attributes(RecordReader& rd, uint64_t count) {
    size_t n = 0;
    for (; count > 0; --count) n += LdSize(KeyValue(rd));
    return n;
  }

 private:
  std::vector<uint32_t>* sizes_;
};

// ---- Write pass: takes the sizes back in the same order -------------------

class Writer {
 public:
  explicit Writer(const uint32_t* next) : next_(next) {}
  size_t Take() { return *next_++; }

  // The AnyValue message size of the value at rd, without consuming it.
  size_t PeekAnyValueSize(RecordReader rd) const {
    switch (TakeTag(rd)) {
      case kTagString:
      case kTagBytes:
        return LdSize(rd.Str().size());
      case kTagFalse:
      case kTagTrue:
        return 2;
      case kTagInt:
        return 1 + VarintSize(static_cast<uint64_t>(UnZigZag(rd.Varint())));
      case kTagDouble:
        return 9;
      case kTagArray:
      case kTagKvList:
        return LdSize(*next_);
      default:
        return 0;
    }
  }

  char* AnyValue(char* p, RecordReader& rd) {
    switch (TakeTag(rd)) {
      case kTagString: {
        std::string_view s = rd.Str();
        return PutBytesField(p, Tag(1, kLen), s.data(), s.size());
      }
      case kTagFalse:
        return PutByte(PutByte(p, Tag(2, kVarint)), 0);
      case kTagTrue:
        return PutByte(PutByte(p, Tag(2, kVarint)), 1);
      case kTagInt:
        return PutVarint(PutByte(p, Tag(3, kVarint)), static_cast<uint64_t>(UnZigZag(rd.Varint())));
      case kTagDouble: {
        p = PutByte(p, Tag(4, kI64));
        std::memcpy(p, rd.Raw(8), 8);
        return p + 8;
      }
      case kTagArray: {
        p = PutLd(p, Tag(5, kLen), Take());
        for (uint64_t c = rd.Varint(); c > 0; --c) {
          p = PutLd(p, Tag(1, kLen), PeekAnyValueSize(rd));
          p = AnyValue(p, rd);
        }
        return p;
      }
      case kTagKvList: {
        p = PutLd(p, Tag(6, kLen), Take());
        for (uint64_t c = rd.Varint(); c > 0; --c) p = KeyValue(p, Tag(1, kLen), rd);
        return p;
      }
      case kTagBytes: {
        std::string_view s = rd.Str();
        return PutBytesField(p, Tag(7, kLen), s.data(), s.size());
      }
      default:
        return p;
    }
  }

  // A KeyValue field tagged `tag`.
  char* KeyValue(char* p, uint8_t tag, RecordReader& rd) {
    const std::string_view key = rd.KeyRef();
    const size_t value_size = PeekAnyValueSize(rd);
    p = PutLd(p, tag, StrFieldSize(key) + LdSize(value_size));
    p = PutStrField(p, Tag(1, kLen), key);
    p = PutLd(p, Tag(2, kLen), value_size);
    return AnyValue(p, rd);
  }

  char* Attributes(char* p, uint8_t tag, RecordReader& rd, uint64_t count) {
    for (; count > 0; --count) p = KeyValue(p, tag, rd);
    return p;
  }

 private:
  const uint32_t* next_;
};

// The body's leading strings.
struct Head {
  std::string_view name, trace_state, status_message;
};
Head ReadHead(RecordReader& rd) {
  Head h;
  h.name = rd.KeyRef();
  h.trace_state = rd.Str();
  h.status_message = rd.Str();
  return h;
}

size_t StatusSize(const RecordedSpan& r, const Head& h) {
  return StrFieldSize(h.status_message) + VarintFieldSize(static_cast<uint64_t>(r.status));
}

size_t SpanSize(const RecordedSpan& r, Sizer& s) {
  RecordReader rd(r.body(), r.body() + r.body_size);
  const Head h = ReadHead(rd);
  size_t n = LdSize(16) + LdSize(8) + StrFieldSize(h.trace_state) +
             (r.has_parent ? LdSize(8) : 0) + StrFieldSize(h.name) +
             VarintFieldSize(static_cast<uint64_t>(r.kind)) +
             Fixed64FieldSize(r.start_time_unix_nano) + Fixed64FieldSize(r.end_time_unix_nano);
  const uint64_t dropped_attrs = rd.Varint();
  n += s.Attributes(rd, rd.Varint()) + VarintFieldSize(dropped_attrs);
  const uint64_t dropped_events = rd.Varint();
  for (uint64_t c = rd.Varint(); c > 0; --c) {
    const size_t slot = s.Reserve();
    const uint64_t time = r.start_time_unix_nano + static_cast<uint64_t>(UnZigZag(rd.Varint()));
    const std::string_view name = rd.KeyRef();
    const uint64_t dropped = rd.Varint();
    const size_t m = Fixed64FieldSize(time) + StrFieldSize(name) +
                     s.Attributes(rd, rd.Varint()) + VarintFieldSize(dropped);
    s.Set(slot, m);
    n += LdSize(m);
  }
  n += VarintFieldSize(dropped_events);
  const uint64_t dropped_links = rd.Varint();
  for (uint64_t c = rd.Varint(); c > 0; --c) {
    const size_t slot = s.Reserve();
    (void)rd.Raw(24);
    const uint64_t flags = rd.Varint();
    const std::string_view ts = rd.Str();
    const uint64_t dropped = rd.Varint();
    const size_t m = LdSize(16) + LdSize(8) + StrFieldSize(ts) + s.Attributes(rd, rd.Varint()) +
                     VarintFieldSize(dropped) + (flags != 0 ? 5 : 0);
    s.Set(slot, m);
    n += LdSize(m);
  }
  n += VarintFieldSize(dropped_links);
  if (const size_t status = StatusSize(r, h); status != 0) n += LdSize(status);
  if (r.flags != 0) n += 2 + 4;  // field 16: a two-byte tag
  return n;
}

char* PutSpan(char* p, const RecordedSpan& r, Writer& w) {
  RecordReader rd(r.body(), r.body() + r.body_size);
  const Head h = ReadHead(rd);
  p = PutBytesField(p, Tag(1, kLen), r.trace_id.data(), 16);
  p = PutBytesField(p, Tag(2, kLen), r.span_id.data(), 8);
  p = PutStrField(p, Tag(3, kLen), h.trace_state);
  if (r.has_parent) p = PutBytesField(p, Tag(4, kLen), r.parent_span_id.data(), 8);
  p = PutStrField(p, Tag(5, kLen), h.name);
  p = PutVarintField(p, Tag(6, kVarint), static_cast<uint64_t>(r.kind));
  p = PutFixed64Field(p, Tag(7, kI64), r.start_time_unix_nano);
  p = PutFixed64Field(p, Tag(8, kI64), r.end_time_unix_nano);
  const uint64_t dropped_attrs = rd.Varint();
  p = w.Attributes(p, Tag(9, kLen), rd, rd.Varint());
  p = PutVarintField(p, Tag(10, kVarint), dropped_attrs);
  const uint64_t dropped_events = rd.Varint();
  for (uint64_t c = rd.Varint(); c > 0; --c) {
    p = PutLd(p, Tag(11, kLen), w.Take());
    const uint64_t time = r.start_time_unix_nano + static_cast<uint64_t>(UnZigZag(rd.Varint()));
    p = PutFixed64Field(p, Tag(1, kI64), time);
    p = PutStrField(p, Tag(2, kLen), rd.KeyRef());
    const uint64_t dropped = rd.Varint();
    p = w.Attributes(p, Tag(3, kLen), rd, rd.Varint());
    p = PutVarintField(p, Tag(4, kVarint), dropped);
  }
  p = PutVarintField(p, Tag(12, kVarint), dropped_events);
  const uint64_t dropped_links = rd.Varint();
  for (uint64_t c = rd.Varint(); c > 0; --c) {
    p = PutLd(p, Tag(13, kLen), w.Take());
    const char* ids = rd.Raw(24);
    p = PutBytesField(p, Tag(1, kLen), ids, 16);
    p = PutBytesField(p, Tag(2, kLen), ids + 16, 8);
    const uint64_t flags = rd.Varint();
    p = PutStrField(p, Tag(3, kLen), rd.Str());
    const uint64_t dropped = rd.Varint();
    p = w.Attributes(p, Tag(4, kLen), rd, rd.Varint());
    p = PutVarintField(p, Tag(5, kVarint), dropped);
    if (flags != 0) p = PutFixed32(PutByte(p, Tag(6, kI32)), static_cast<uint32_t>(flags));
  }
  p = PutVarintField(p, Tag(14, kVarint), dropped_links);
  if (const size_t status = StatusSize(r, h); status != 0) {
    p = PutLd(p, Tag(15, kLen), status);
    p = PutStrField(p, Tag(2, kLen), h.status_message);
    p = PutVarintField(p, Tag(3, kVarint), static_cast<uint64_t>(r.status));
  }
  if (r.flags != 0) {
    // Field 16 has a two-byte tag: varint of (16 << 3 | kI32) = 0x85 0x01.
    p = PutByte(PutByte(p, 0x85), 0x01);
    p = PutFixed32(p, r.flags);
  }
  return p;
}

}  // namespace

void RecordEncoder::Append(const RecordedSpan& r, std::string* out) {
  sizes_.clear();
  Sizer sizer(&sizes_);
  const size_t n = SpanSize(r, sizer);
  const size_t old = out->size();
  out->resize(old + n);
  Writer w(sizes_.data());
  [[maybe_unused]] char* end = PutSpan(out->data() + old, r, w);
  assert(end == out->data() + old + n);
}

}  // namespace tracewire::sdk
