#include "wire/otlp_encoder.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>
#include <variant>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "wire/wire_primitives.h"

// How it works. A request is encoded in two passes over the same tree:
//  1. The size pass computes every message's size bottom-up and records the
//     sizes that the write pass needs in a cache, in pre-order (a parent's
//     slot before its children's), in exactly the order the write pass will
//     need them.
//  2. The write pass grows the output once to the total and writes forward,
//     taking each length-delimited field's length from the cache.
// Sizes that are cheap to recompute (KeyValue, scalar AnyValue, Status,
// ValueAtQuantile) are not cached; every other nested message is: Resource,
// scope, the ResourceX/ScopeX wrappers, items, events, links, ArrayValue and
// KeyValueList, metric data, data points, exemplars and exponential buckets.
// Every *Size function below is templated on the recorder so that the same
// code serves the size pass (SizeRecorder) and the public item-size functions
// and the splitter (NoRecorder).

namespace tracewire::wire {
namespace {

// ---- The size cache --------------------------------------------------------

// Records sizes in pre-order during the size pass.
class SizeRecorder {
 public:
  explicit SizeRecorder(std::vector<size_t>* sizes) : sizes_(sizes) {}
  TW_INLINE size_t Reserve() {
    sizes_->push_back(0);
    return sizes_->size() - 1;
  }
  TW_INLINE void Set(size_t slot, size_t size) { (*sizes_)[slot] = size; }

 private:
  std::vector<size_t>* sizes_;
};

// Records nothing: for sizes wanted once.
struct NoRecorder {
  size_t Reserve() { return 0; }
  void Set(size_t, size_t) {}
};

// Hands the recorded sizes back to the write pass in the same order.
class SizeReader {
 public:
  explicit SizeReader(const size_t* next) : next_(next) {}
  size_t Take() { return *next_++; }
  size_t Peek() const { return *next_; }

 private:
  const size_t* next_;
};

// ---- AnyValue and KeyValue -------------------------------------------------

enum AnyValueIndex : size_t {
  kNone = 0,
  kString = 1,
  kBool = 2,
  kInt = 3,
  kDouble = 4,
  kArray = 5,
  kKvList = 6,
  kBytes = 7
};
using AnyValueVariant = decltype(AnyValue::value);
static_assert(std::is_same_v<std::variant_alternative_t<kString, AnyValueVariant>, std::string>);
static_assert(std::is_same_v<std::variant_alternative_t<kBool, AnyValueVariant>, bool>);
static_assert(std::is_same_v<std::variant_alternative_t<kInt, AnyValueVariant>, int64_t>);
static_assert(std::is_same_v<std::variant_alternative_t<kDouble, AnyValueVariant>, double>);
static_assert(std::is_same_v<std::variant_alternative_t<kArray, AnyValueVariant>, AnyValue::Array>);
static_assert(
    std::is_same_v<std::variant_alternative_t<kKvList, AnyValueVariant>, AnyValue::KvList>);
static_assert(std::is_same_v<std::variant_alternative_t<kBytes, AnyValueVariant>, Bytes>);

// The size of an AnyValue message that holds no array or kvlist. The tests
// are ordered by how common the kinds are in attributes.
TW_INLINE size_t ScalarAnyValueSize(const AnyValue& v) {
  if (const auto* s = std::get_if<kString>(&v.value)) return LdSize(s->size());
  if (const auto* i = std::get_if<kInt>(&v.value)) {
    return 1 + VarintSize(static_cast<uint64_t>(*i));
  }
  if (v.value.index() == kDouble) return 9;
  if (v.value.index() == kBool) return 2;
  if (const auto* b = std::get_if<kBytes>(&v.value)) return LdSize(b->data.size());
  return 0;
}

inline bool IsComposite(const AnyValue& v) {
  return v.value.index() == kArray || v.value.index() == kKvList;
}

template <class Rec>
size_t AnyValueSize(const AnyValue& v, Rec& rec);
template <class Rec>
size_t KeyValueSize(const KeyValue& kv, Rec& rec);

// The size of an array or kvlist AnyValue. Records one slot: the ArrayValue
// or KeyValueList size.
template <class Rec>
ABSL_ATTRIBUTE_NOINLINE size_t CompositeAnyValueSize(const AnyValue& v, Rec& rec) {
  const size_t slot = rec.Reserve();
  size_t n = 0;
  if (const auto* a = std::get_if<kArray>(&v.value)) {
    for (const AnyValue& e : *a) n += LdSize(AnyValueSize(e, rec));
  } else {
    for (const KeyValue& kv : *std::get_if<kKvList>(&v.value)) n += LdSize(KeyValueSize(kv, rec));
  }
  rec.Set(slot, n);
  return LdSize(n);
}

template <class Rec>
TW_INLINE size_t AnyValueSize(const AnyValue& v, Rec& rec) {
  if (ABSL_PREDICT_FALSE(IsComposite(v))) return CompositeAnyValueSize(v, rec);
  return ScalarAnyValueSize(v);
}

template <class Rec>
TW_INLINE size_t KeyValueSize(const KeyValue& kv, Rec& rec) {
  return StringFieldSize(kv.key) + LdSize(AnyValueSize(kv.value, rec));
}

template <class Rec>
size_t AttributesSize(const Attributes& attributes, Rec& rec) {
  size_t n = 0;
  for (const KeyValue& kv : attributes) n += LdSize(KeyValueSize(kv, rec));
  return n;
}

// The size of an AnyValue message in the write pass, where the size of an
// array or kvlist is the next recorded size.
inline size_t RecordedAnyValueSize(const AnyValue& v, const SizeReader& rd) {
  return IsComposite(v) ? LdSize(rd.Peek()) : ScalarAnyValueSize(v);
}

char* PutKeyValueField(char* p, uint8_t tag, const KeyValue& kv, SizeReader& rd);

// Writes the fields of an AnyValue message.
char* PutAnyValue(char* p, const AnyValue& v, SizeReader& rd) {
  switch (v.value.index()) {
    case kString: {
      const std::string& s = *std::get_if<kString>(&v.value);
      return PutBytesField(p, Tag<1, kLen>(), s.data(), s.size());
    }
    case kBool:
      return PutByte(PutByte(p, Tag<2, kVarint>()), *std::get_if<kBool>(&v.value) ? 1 : 0);
    case kInt:
      return PutVarint(PutByte(p, Tag<3, kVarint>()),
                       static_cast<uint64_t>(*std::get_if<kInt>(&v.value)));
    case kDouble:
      return PutDouble(p, Tag<4, kI64>(), *std::get_if<kDouble>(&v.value));
    case kArray: {
      p = PutLd(p, Tag<5, kLen>(), rd.Take());
      for (const AnyValue& e : *std::get_if<kArray>(&v.value)) {
        p = PutLd(p, Tag<1, kLen>(), RecordedAnyValueSize(e, rd));
        p = PutAnyValue(p, e, rd);
      }
      return p;
    }
    case kKvList: {
      p = PutLd(p, Tag<6, kLen>(), rd.Take());
      for (const KeyValue& kv : *std::get_if<kKvList>(&v.value)) {
        p = PutKeyValueField(p, Tag<1, kLen>(), kv, rd);
      }
      return p;
    }
    case kBytes: {
      const std::string& b = std::get_if<kBytes>(&v.value)->data;
      return PutBytesField(p, Tag<7, kLen>(), b.data(), b.size());
    }
    default:
      return p;
  }
}

// A KeyValue field up to its value's fields: the tag and length, the key, and
// the value's tag and length.
TW_INLINE char* PutKeyValueHead(char* p, uint8_t tag, const std::string& key, size_t value_size) {
  p = PutLd(p, tag, StringFieldSize(key) + LdSize(value_size));
  p = PutStringField(p, Tag<1, kLen>(), key);
  return PutLd(p, Tag<2, kLen>(), value_size);
}

// Writes `kv` as a KeyValue field tagged `tag`. Scalar values, the common
// case, are sized and written in one test of the kind.
TW_INLINE char* PutKeyValueField(char* p, uint8_t tag, const KeyValue& kv, SizeReader& rd) {
  const auto& v = kv.value.value;
  if (const auto* s = std::get_if<kString>(&v)) {
    p = PutKeyValueHead(p, tag, kv.key, LdSize(s->size()));
    return PutBytesField(p, Tag<1, kLen>(), s->data(), s->size());
  }
  if (const auto* i = std::get_if<kInt>(&v)) {
    const auto u = static_cast<uint64_t>(*i);
    p = PutKeyValueHead(p, tag, kv.key, 1 + VarintSize(u));
    return PutVarint(PutByte(p, Tag<3, kVarint>()), u);
  }
  if (const auto* d = std::get_if<kDouble>(&v)) {
    p = PutKeyValueHead(p, tag, kv.key, 9);
    return PutDouble(p, Tag<4, kI64>(), *d);
  }
  if (const auto* b = std::get_if<kBool>(&v)) {
    p = PutKeyValueHead(p, tag, kv.key, 2);
    return PutByte(PutByte(p, Tag<2, kVarint>()), *b ? 1 : 0);
  }
  p = PutKeyValueHead(p, tag, kv.key, RecordedAnyValueSize(kv.value, rd));
  return PutAnyValue(p, kv.value, rd);
}

// Writes `attributes` as repeated KeyValue fields tagged `tag`.
char* PutAttributes(char* p, uint8_t tag, const Attributes& attributes, SizeReader& rd) {
  for (const KeyValue& kv : attributes) p = PutKeyValueField(p, tag, kv, rd);
  return p;
}

// ---- Resource and InstrumentationScope -------------------------------------

template <class Rec>
size_t ResourceSize(const Resource& r, Rec& rec) {
  const size_t slot = rec.Reserve();
  const size_t n = AttributesSize(r.attributes, rec) + VarintFieldSize(r.dropped_attributes_count);
  rec.Set(slot, n);
  return n;
}

char* PutResource(char* p, const Resource& r, SizeReader& rd) {
  p = PutAttributes(p, Tag<1, kLen>(), r.attributes, rd);
  return PutVarintField(p, Tag<2, kVarint>(), r.dropped_attributes_count);
}

template <class Rec>
size_t ScopeSize(const InstrumentationScope& s, Rec& rec) {
  const size_t slot = rec.Reserve();
  const size_t n = StringFieldSize(s.name) + StringFieldSize(s.version) +
                   AttributesSize(s.attributes, rec) + VarintFieldSize(s.dropped_attributes_count);
  rec.Set(slot, n);
  return n;
}

char* PutScope(char* p, const InstrumentationScope& s, SizeReader& rd) {
  p = PutStringField(p, Tag<1, kLen>(), s.name);
  p = PutStringField(p, Tag<2, kLen>(), s.version);
  p = PutAttributes(p, Tag<3, kLen>(), s.attributes, rd);
  return PutVarintField(p, Tag<4, kVarint>(), s.dropped_attributes_count);
}

// ---- Spans -----------------------------------------------------------------

template <class Rec>
size_t EventSize(const SpanEvent& e, Rec& rec) {
  const size_t slot = rec.Reserve();
  const size_t n = Fixed64FieldSize(e.time_unix_nano) + StringFieldSize(e.name) +
                   AttributesSize(e.attributes, rec) + VarintFieldSize(e.dropped_attributes_count);
  rec.Set(slot, n);
  return n;
}

char* PutEvent(char* p, const SpanEvent& e, SizeReader& rd) {
  p = PutFixed64Field(p, Tag<1, kI64>(), e.time_unix_nano);
  p = PutStringField(p, Tag<2, kLen>(), e.name);
  p = PutAttributes(p, Tag<3, kLen>(), e.attributes, rd);
  return PutVarintField(p, Tag<4, kVarint>(), e.dropped_attributes_count);
}

template <class Rec>
size_t LinkSize(const SpanLink& l, Rec& rec) {
  const size_t slot = rec.Reserve();
  const size_t n = LdSize(16) + LdSize(8) + StringFieldSize(l.trace_state) +
                   AttributesSize(l.attributes, rec) + VarintFieldSize(l.dropped_attributes_count) +
                   (l.flags != 0 ? 5 : 0);
  rec.Set(slot, n);
  return n;
}

char* PutLink(char* p, const SpanLink& l, SizeReader& rd) {
  p = PutBytesField(p, Tag<1, kLen>(), l.trace_id.data(), 16);
  p = PutBytesField(p, Tag<2, kLen>(), l.span_id.data(), 8);
  p = PutStringField(p, Tag<3, kLen>(), l.trace_state);
  p = PutAttributes(p, Tag<4, kLen>(), l.attributes, rd);
  p = PutVarintField(p, Tag<5, kVarint>(), l.dropped_attributes_count);
  if (l.flags != 0) p = PutFixed32(PutByte(p, Tag<6, kI32>()), l.flags);
  return p;
}

// The Status message's size; 0 means it is not written.
inline size_t StatusSize(const SpanData& s) {
  return StringFieldSize(s.status_message) + VarintFieldSize(static_cast<uint64_t>(s.status_code));
}

template <class Rec>
size_t SpanSize(const SpanData& s, Rec& rec) {
  const size_t slot = rec.Reserve();
  size_t n = LdSize(16) + LdSize(8) + StringFieldSize(s.trace_state) +
             (s.parent_span_id.has_value() ? LdSize(8) : 0) + StringFieldSize(s.name) +
             VarintFieldSize(static_cast<uint64_t>(s.kind)) +
             Fixed64FieldSize(s.start_time_unix_nano) + Fixed64FieldSize(s.end_time_unix_nano) +
             AttributesSize(s.attributes, rec) + VarintFieldSize(s.dropped_attributes_count);
  for (const SpanEvent& e : s.events) n += LdSize(EventSize(e, rec));
  n += VarintFieldSize(s.dropped_events_count);
  for (const SpanLink& l : s.links) n += LdSize(LinkSize(l, rec));
  n += VarintFieldSize(s.dropped_links_count);
  const size_t status = StatusSize(s);
  if (status != 0) n += LdSize(status);
  if (s.flags != 0) n += 2 + 4;  // field 16: a two-byte tag
  rec.Set(slot, n);
  return n;
}

char* PutSpan(char* p, const SpanData& s, SizeReader& rd) {
  p = PutBytesField(p, Tag<1, kLen>(), s.trace_id.data(), 16);
  p = PutBytesField(p, Tag<2, kLen>(), s.span_id.data(), 8);
  p = PutStringField(p, Tag<3, kLen>(), s.trace_state);
  if (s.parent_span_id.has_value())
    p = PutBytesField(p, Tag<4, kLen>(), s.parent_span_id->data(), 8);
  p = PutStringField(p, Tag<5, kLen>(), s.name);
  p = PutVarintField(p, Tag<6, kVarint>(), static_cast<uint64_t>(s.kind));
  p = PutFixed64Field(p, Tag<7, kI64>(), s.start_time_unix_nano);
  p = PutFixed64Field(p, Tag<8, kI64>(), s.end_time_unix_nano);
  p = PutAttributes(p, Tag<9, kLen>(), s.attributes, rd);
  p = PutVarintField(p, Tag<10, kVarint>(), s.dropped_attributes_count);
  for (const SpanEvent& e : s.events) {
    p = PutLd(p, Tag<11, kLen>(), rd.Take());
    p = PutEvent(p, e, rd);
  }
  p = PutVarintField(p, Tag<12, kVarint>(), s.dropped_events_count);
  for (const SpanLink& l : s.links) {
    p = PutLd(p, Tag<13, kLen>(), rd.Take());
    p = PutLink(p, l, rd);
  }
  p = PutVarintField(p, Tag<14, kVarint>(), s.dropped_links_count);
  if (const size_t status = StatusSize(s); status != 0) {
    p = PutLd(p, Tag<15, kLen>(), status);
    p = PutStringField(p, Tag<2, kLen>(), s.status_message);
    p = PutVarintField(p, Tag<3, kVarint>(), static_cast<uint64_t>(s.status_code));
  }
  if (s.flags != 0) {
    // Field 16 has a two-byte tag: varint of (16 << 3 | kI32) = 0x85 0x01.
    p = PutByte(PutByte(p, 0x85), 0x01);
    p = PutFixed32(p, s.flags);
  }
  return p;
}

// ---- Metrics ---------------------------------------------------------------

using NumberValue = std::variant<double, int64_t>;

// Writes as_double (field `kDoubleField`) or as_int (`kIntField`, sfixed64)
// if it holds that kind: each is written at its own place in field order.
inline char* PutAsDouble(char* p, uint8_t tag, const NumberValue& v) {
  const double* d = std::get_if<double>(&v);
  return d == nullptr ? p : PutDouble(p, tag, *d);
}
inline char* PutAsInt(char* p, uint8_t tag, const NumberValue& v) {
  const int64_t* i = std::get_if<int64_t>(&v);
  return i == nullptr ? p : PutFixed64(PutByte(p, tag), static_cast<uint64_t>(*i));
}

template <class Rec>
size_t ExemplarSize(const tracewire::Exemplar& e, Rec& rec) {
  const size_t slot = rec.Reserve();
  const size_t n =
      Fixed64FieldSize(e.time_unix_nano) + 9 + (e.span_id.has_value() ? LdSize(8) : 0) +
      (e.trace_id.has_value() ? LdSize(16) : 0) + AttributesSize(e.filtered_attributes, rec);
  rec.Set(slot, n);
  return n;
}

char* PutExemplar(char* p, const tracewire::Exemplar& e, SizeReader& rd) {
  p = PutFixed64Field(p, Tag<2, kI64>(), e.time_unix_nano);
  p = PutAsDouble(p, Tag<3, kI64>(), e.value);
  if (e.span_id.has_value()) p = PutBytesField(p, Tag<4, kLen>(), e.span_id->data(), 8);
  if (e.trace_id.has_value()) p = PutBytesField(p, Tag<5, kLen>(), e.trace_id->data(), 16);
  p = PutAsInt(p, Tag<6, kI64>(), e.value);
  return PutAttributes(p, Tag<7, kLen>(), e.filtered_attributes, rd);
}

template <class Rec>
size_t ExemplarsSize(const std::vector<tracewire::Exemplar>& exemplars, Rec& rec) {
  size_t n = 0;
  for (const auto& e : exemplars) n += LdSize(ExemplarSize(e, rec));
  return n;
}

char* PutExemplars(char* p, uint8_t tag, const std::vector<tracewire::Exemplar>& exemplars,
                   SizeReader& rd) {
  for (const auto& e : exemplars) {
    p = PutLd(p, tag, rd.Take());
    p = PutExemplar(p, e, rd);
  }
  return p;
}

template <class Rec>
size_t NumberPointSize(const NumberDataPoint& d, Rec& rec) {
  const size_t slot = rec.Reserve();
  const size_t n = Fixed64FieldSize(d.start_time_unix_nano) + Fixed64FieldSize(d.time_unix_nano) +
                   9 + ExemplarsSize(d.exemplars, rec) + AttributesSize(d.attributes, rec) +
                   VarintFieldSize(d.flags);
  rec.Set(slot, n);
  return n;
}

char* PutNumberPoint(char* p, const NumberDataPoint& d, SizeReader& rd) {
  p = PutFixed64Field(p, Tag<2, kI64>(), d.start_time_unix_nano);
  p = PutFixed64Field(p, Tag<3, kI64>(), d.time_unix_nano);
  p = PutAsDouble(p, Tag<4, kI64>(), d.value);
  p = PutExemplars(p, Tag<5, kLen>(), d.exemplars, rd);
  p = PutAsInt(p, Tag<6, kI64>(), d.value);
  p = PutAttributes(p, Tag<7, kLen>(), d.attributes, rd);
  return PutVarintField(p, Tag<8, kVarint>(), d.flags);
}

inline size_t OptionalDoubleSize(const std::optional<double>& d) { return d.has_value() ? 9 : 0; }
inline char* PutOptionalDouble(char* p, uint8_t tag, const std::optional<double>& d) {
  return d.has_value() ? PutDouble(p, tag, *d) : p;
}

// A packed repeated fixed64 or double field of `n` values.
inline size_t PackedFixed64Size(size_t n) { return n == 0 ? 0 : LdSize(8 * n); }
template <typename T>
char* PutPackedFixed64(char* p, uint8_t tag, const std::vector<T>& values) {
  static_assert(sizeof(T) == 8);
  if (values.empty()) return p;
  p = PutLd(p, tag, 8 * values.size());
  if constexpr (std::endian::native == std::endian::little) {
    return PutRaw(p, values.data(), 8 * values.size());
  } else {
    for (const T& v : values) p = PutFixed64(p, std::bit_cast<uint64_t>(v));
    return p;
  }
}

template <class Rec>
size_t HistogramPointSize(const HistogramDataPoint& d, Rec& rec) {
  const size_t slot = rec.Reserve();
  const size_t n = Fixed64FieldSize(d.start_time_unix_nano) + Fixed64FieldSize(d.time_unix_nano) +
                   Fixed64FieldSize(d.count) + OptionalDoubleSize(d.sum) +
                   PackedFixed64Size(d.bucket_counts.size()) +
                   PackedFixed64Size(d.explicit_bounds.size()) + ExemplarsSize(d.exemplars, rec) +
                   AttributesSize(d.attributes, rec) + VarintFieldSize(d.flags) +
                   OptionalDoubleSize(d.min) + OptionalDoubleSize(d.max);
  rec.Set(slot, n);
  return n;
}

char* PutHistogramPoint(char* p, const HistogramDataPoint& d, SizeReader& rd) {
  p = PutFixed64Field(p, Tag<2, kI64>(), d.start_time_unix_nano);
  p = PutFixed64Field(p, Tag<3, kI64>(), d.time_unix_nano);
  p = PutFixed64Field(p, Tag<4, kI64>(), d.count);
  p = PutOptionalDouble(p, Tag<5, kI64>(), d.sum);
  p = PutPackedFixed64(p, Tag<6, kLen>(), d.bucket_counts);
  p = PutPackedFixed64(p, Tag<7, kLen>(), d.explicit_bounds);
  p = PutExemplars(p, Tag<8, kLen>(), d.exemplars, rd);
  p = PutAttributes(p, Tag<9, kLen>(), d.attributes, rd);
  p = PutVarintField(p, Tag<10, kVarint>(), d.flags);
  p = PutOptionalDouble(p, Tag<11, kI64>(), d.min);
  return PutOptionalDouble(p, Tag<12, kI64>(), d.max);
}

using Buckets = ExponentialHistogramDataPoint::Buckets;

inline bool HasBuckets(const Buckets& b) { return b.offset != 0 || !b.bucket_counts.empty(); }

// Records two slots: the Buckets message and its packed counts.
template <class Rec>
size_t BucketsSize(const Buckets& b, Rec& rec) {
  const size_t slot = rec.Reserve();
  const size_t packed_slot = rec.Reserve();
  size_t packed = 0;
  for (uint64_t c : b.bucket_counts) packed += VarintSize(c);
  rec.Set(packed_slot, packed);
  const size_t n = VarintFieldSize(ZigZag32(b.offset)) + (packed == 0 ? 0 : LdSize(packed));
  rec.Set(slot, n);
  return n;
}

char* PutBuckets(char* p, const Buckets& b, SizeReader& rd) {
  const size_t packed = rd.Take();
  p = PutVarintField(p, Tag<1, kVarint>(), ZigZag32(b.offset));
  if (packed == 0) return p;
  p = PutLd(p, Tag<2, kLen>(), packed);
  for (uint64_t c : b.bucket_counts) p = PutVarint(p, c);
  return p;
}

template <class Rec>
size_t ExponentialPointSize(const ExponentialHistogramDataPoint& d, Rec& rec) {
  const size_t slot = rec.Reserve();
  size_t n = AttributesSize(d.attributes, rec) + Fixed64FieldSize(d.start_time_unix_nano) +
             Fixed64FieldSize(d.time_unix_nano) + Fixed64FieldSize(d.count) +
             OptionalDoubleSize(d.sum) + VarintFieldSize(ZigZag32(d.scale)) +
             Fixed64FieldSize(d.zero_count);
  if (HasBuckets(d.positive)) n += LdSize(BucketsSize(d.positive, rec));
  if (HasBuckets(d.negative)) n += LdSize(BucketsSize(d.negative, rec));
  n += VarintFieldSize(d.flags) + ExemplarsSize(d.exemplars, rec) + OptionalDoubleSize(d.min) +
       OptionalDoubleSize(d.max) + DoubleFieldSize(d.zero_threshold);
  rec.Set(slot, n);
  return n;
}

char* PutExponentialPoint(char* p, const ExponentialHistogramDataPoint& d, SizeReader& rd) {
  p = PutAttributes(p, Tag<1, kLen>(), d.attributes, rd);
  p = PutFixed64Field(p, Tag<2, kI64>(), d.start_time_unix_nano);
  p = PutFixed64Field(p, Tag<3, kI64>(), d.time_unix_nano);
  p = PutFixed64Field(p, Tag<4, kI64>(), d.count);
  p = PutOptionalDouble(p, Tag<5, kI64>(), d.sum);
  p = PutVarintField(p, Tag<6, kVarint>(), ZigZag32(d.scale));
  p = PutFixed64Field(p, Tag<7, kI64>(), d.zero_count);
  if (HasBuckets(d.positive)) {
    p = PutLd(p, Tag<8, kLen>(), rd.Take());
    p = PutBuckets(p, d.positive, rd);
  }
  if (HasBuckets(d.negative)) {
    p = PutLd(p, Tag<9, kLen>(), rd.Take());
    p = PutBuckets(p, d.negative, rd);
  }
  p = PutVarintField(p, Tag<10, kVarint>(), d.flags);
  p = PutExemplars(p, Tag<11, kLen>(), d.exemplars, rd);
  p = PutOptionalDouble(p, Tag<12, kI64>(), d.min);
  p = PutOptionalDouble(p, Tag<13, kI64>(), d.max);
  return PutDoubleField(p, Tag<14, kI64>(), d.zero_threshold);
}

inline size_t QuantileSize(const SummaryDataPoint::ValueAtQuantile& q) {
  return DoubleFieldSize(q.quantile) + DoubleFieldSize(q.value);
}

template <class Rec>
size_t SummaryPointSize(const SummaryDataPoint& d, Rec& rec) {
  const size_t slot = rec.Reserve();
  size_t n = Fixed64FieldSize(d.start_time_unix_nano) + Fixed64FieldSize(d.time_unix_nano) +
             Fixed64FieldSize(d.count) + DoubleFieldSize(d.sum);
  for (const auto& q : d.quantile_values) n += LdSize(QuantileSize(q));
  n += AttributesSize(d.attributes, rec) + VarintFieldSize(d.flags);
  rec.Set(slot, n);
  return n;
}

char* PutSummaryPoint(char* p, const SummaryDataPoint& d, SizeReader& rd) {
  p = PutFixed64Field(p, Tag<2, kI64>(), d.start_time_unix_nano);
  p = PutFixed64Field(p, Tag<3, kI64>(), d.time_unix_nano);
  p = PutFixed64Field(p, Tag<4, kI64>(), d.count);
  p = PutDoubleField(p, Tag<5, kI64>(), d.sum);
  for (const auto& q : d.quantile_values) {
    p = PutLd(p, Tag<6, kLen>(), QuantileSize(q));
    p = PutDoubleField(p, Tag<1, kI64>(), q.quantile);
    p = PutDoubleField(p, Tag<2, kI64>(), q.value);
  }
  p = PutAttributes(p, Tag<7, kLen>(), d.attributes, rd);
  return PutVarintField(p, Tag<8, kVarint>(), d.flags);
}

// Per-kind size and writer of a data point.
template <class Rec>
size_t PointSize(const NumberDataPoint& d, Rec& rec) {
  return NumberPointSize(d, rec);
}
template <class Rec>
size_t PointSize(const HistogramDataPoint& d, Rec& rec) {
  return HistogramPointSize(d, rec);
}
template <class Rec>
size_t PointSize(const ExponentialHistogramDataPoint& d, Rec& rec) {
  return ExponentialPointSize(d, rec);
}
template <class Rec>
size_t PointSize(const SummaryDataPoint& d, Rec& rec) {
  return SummaryPointSize(d, rec);
}
char* PutPoint(char* p, const NumberDataPoint& d, SizeReader& rd) {
  return PutNumberPoint(p, d, rd);
}
char* PutPoint(char* p, const HistogramDataPoint& d, SizeReader& rd) {
  return PutHistogramPoint(p, d, rd);
}
char* PutPoint(char* p, const ExponentialHistogramDataPoint& d, SizeReader& rd) {
  return PutExponentialPoint(p, d, rd);
}
char* PutPoint(char* p, const SummaryDataPoint& d, SizeReader& rd) {
  return PutSummaryPoint(p, d, rd);
}

// The fields of Gauge, Sum, Histogram, ExponentialHistogram and Summary
// after data_points (field 1).
inline size_t DataTailSize(const Gauge&) { return 0; }
inline size_t DataTailSize(const Summary&) { return 0; }
inline size_t DataTailSize(const Sum& s) {
  return VarintFieldSize(static_cast<uint64_t>(s.aggregation_temporality)) +
         (s.is_monotonic ? 2 : 0);
}
template <typename Data>
size_t DataTailSize(const Data& d) {
  return VarintFieldSize(static_cast<uint64_t>(d.aggregation_temporality));
}
inline char* PutDataTail(char* p, const Gauge&) { return p; }
inline char* PutDataTail(char* p, const Summary&) { return p; }
inline char* PutDataTail(char* p, const Sum& s) {
  p = PutVarintField(p, Tag<2, kVarint>(), static_cast<uint64_t>(s.aggregation_temporality));
  return s.is_monotonic ? PutByte(PutByte(p, Tag<3, kVarint>()), 1) : p;
}
template <typename Data>
char* PutDataTail(char* p, const Data& d) {
  return PutVarintField(p, Tag<2, kVarint>(), static_cast<uint64_t>(d.aggregation_temporality));
}

template <typename Data, class Rec>
size_t DataSize(const Data& data, Rec& rec) {
  const size_t slot = rec.Reserve();
  size_t n = 0;
  for (const auto& d : data.data_points) n += LdSize(PointSize(d, rec));
  n += DataTailSize(data);
  rec.Set(slot, n);
  return n;
}

template <typename Data>
char* PutData(char* p, const Data& data, SizeReader& rd) {
  for (const auto& d : data.data_points) {
    p = PutLd(p, Tag<1, kLen>(), rd.Take());
    p = PutPoint(p, d, rd);
  }
  return PutDataTail(p, data);
}

// Metric.data's field tag per variant alternative.
constexpr uint8_t kMetricDataTags[] = {Tag<5, kLen>(), Tag<7, kLen>(), Tag<9, kLen>(),
                                       Tag<10, kLen>(), Tag<11, kLen>()};
static_assert(std::size(kMetricDataTags) == std::variant_size_v<decltype(MetricData::data)>);

template <class Rec>
size_t MetricSize(const MetricData& m, Rec& rec) {
  const size_t slot = rec.Reserve();
  size_t n = StringFieldSize(m.name) + StringFieldSize(m.description) + StringFieldSize(m.unit);
  n += LdSize(std::visit([&rec](const auto& data) { return DataSize(data, rec); }, m.data));
  n += AttributesSize(m.metadata, rec);
  rec.Set(slot, n);
  return n;
}

char* PutMetric(char* p, const MetricData& m, SizeReader& rd) {
  p = PutStringField(p, Tag<1, kLen>(), m.name);
  p = PutStringField(p, Tag<2, kLen>(), m.description);
  p = PutStringField(p, Tag<3, kLen>(), m.unit);
  p = PutLd(p, kMetricDataTags[m.data.index()], rd.Take());
  p = std::visit([p, &rd](const auto& data) { return PutData(p, data, rd); }, m.data);
  return PutAttributes(p, Tag<12, kLen>(), m.metadata, rd);
}

// ---- Log records -----------------------------------------------------------

template <class Rec>
size_t LogRecordSize(const LogRecordData& r, Rec& rec) {
  const size_t slot = rec.Reserve();
  size_t n = Fixed64FieldSize(r.time_unix_nano) + VarintFieldSize(r.severity_number) +
             StringFieldSize(r.severity_text);
  if (r.body.has_value()) n += LdSize(AnyValueSize(*r.body, rec));
  n += AttributesSize(r.attributes, rec) + VarintFieldSize(r.dropped_attributes_count) +
       (r.flags != 0 ? 5 : 0) + (r.trace_id.has_value() ? LdSize(16) : 0) +
       (r.span_id.has_value() ? LdSize(8) : 0) + Fixed64FieldSize(r.observed_time_unix_nano) +
       StringFieldSize(r.event_name);
  rec.Set(slot, n);
  return n;
}

char* PutLogRecord(char* p, const LogRecordData& r, SizeReader& rd) {
  p = PutFixed64Field(p, Tag<1, kI64>(), r.time_unix_nano);
  p = PutVarintField(p, Tag<2, kVarint>(), r.severity_number);
  p = PutStringField(p, Tag<3, kLen>(), r.severity_text);
  if (r.body.has_value()) {
    p = PutLd(p, Tag<5, kLen>(), RecordedAnyValueSize(*r.body, rd));
    p = PutAnyValue(p, *r.body, rd);
  }
  p = PutAttributes(p, Tag<6, kLen>(), r.attributes, rd);
  p = PutVarintField(p, Tag<7, kVarint>(), r.dropped_attributes_count);
  if (r.flags != 0) p = PutFixed32(PutByte(p, Tag<8, kI32>()), r.flags);
  if (r.trace_id.has_value()) p = PutBytesField(p, Tag<9, kLen>(), r.trace_id->data(), 16);
  if (r.span_id.has_value()) p = PutBytesField(p, Tag<10, kLen>(), r.span_id->data(), 8);
  p = PutFixed64Field(p, Tag<11, kI64>(), r.observed_time_unix_nano);
  return PutStringField(p, Tag<12, kLen>(), r.event_name);
}

// ---- Signals ---------------------------------------------------------------

struct SpanTraits {
  using Item = SpanData;
  template <class Rec>
  static size_t Size(const SpanData& s, Rec& rec) {
    return SpanSize(s, rec);
  }
  static char* Put(char* p, const SpanData& s, SizeReader& rd) { return PutSpan(p, s, rd); }
};
struct EncodedSpanTraits {
  using Item = EncodedSpan;
  template <class Rec>
  static size_t Size(const EncodedSpan& s, Rec& rec) {
    rec.Set(rec.Reserve(), s.message.size());  // PutRequest takes each item's size
    return s.message.size();
  }
  static char* Put(char* p, const EncodedSpan& s, SizeReader&) {
    return PutRaw(p, s.message.data(), s.message.size());
  }
};
struct MetricTraits {
  using Item = MetricData;
  template <class Rec>
  static size_t Size(const MetricData& m, Rec& rec) {
    return MetricSize(m, rec);
  }
  static char* Put(char* p, const MetricData& m, SizeReader& rd) { return PutMetric(p, m, rd); }
};
struct LogTraits {
  using Item = LogRecordData;
  template <class Rec>
  static size_t Size(const LogRecordData& r, Rec& rec) {
    return LogRecordSize(r, rec);
  }
  static char* Put(char* p, const LogRecordData& r, SizeReader& rd) {
    return PutLogRecord(p, r, rd);
  }
};

// ---- Grouping --------------------------------------------------------------

// The groups of a request in plan order (see the header). All three signals
// share the wrapper shape: request.1 = ResourceX; ResourceX.1 = resource,
// .2 = ScopeX, .3 = schema_url; ScopeX.1 = scope, .2 = items, .3 = schema_url.
struct Plan {
  struct ScopeBlock {
    const InstrumentationScope* scope;
    uint32_t begin, end;  // a range of `order`
  };
  struct ResourceBlock {
    const Resource* resource;
    uint32_t begin, end;  // a range of `scopes`
  };
  std::vector<uint32_t> order;  // group indices
  std::vector<ScopeBlock> scopes;
  std::vector<ResourceBlock> resources;
  size_t items = 0;
};

template <typename Item>
void BuildPlan(std::span<const ScopedItems<Item>> groups, Plan* plan) {
  for (uint32_t g = 0; g < groups.size(); ++g) {
    if (groups[g].items.empty()) continue;
    plan->order.push_back(g);
    plan->items += groups[g].items.size();
  }
  if (plan->order.empty()) return;
  const auto res = [&groups](uint32_t g) { return groups[g].resource; };
  const auto scope = [&groups](uint32_t g) { return groups[g].scope; };
  std::vector<uint32_t>& order = plan->order;
  const uint32_t first = order[0];
  const bool one_block = std::all_of(order.begin(), order.end(), [&](uint32_t g) {
    return res(g) == res(first) && scope(g) == scope(first);
  });
  if (one_block) {
    plan->scopes.push_back({scope(first), 0, static_cast<uint32_t>(order.size())});
    plan->resources.push_back({res(first), 0, 1});
    return;
  }
  // Sort by pointers to bring equal keys together (stable: group order is
  // kept within a key), then order the runs by first appearance.
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (res(a) != res(b)) return std::less<const Resource*>()(res(a), res(b));
    return std::less<const InstrumentationScope*>()(scope(a), scope(b));
  });
  struct Run {
    uint32_t begin, end;
    uint32_t first;           // the run's first group
    uint32_t resource_first;  // the first group of the run's resource
  };
  std::vector<Run> runs;
  for (uint32_t i = 0; i < order.size();) {
    uint32_t j = i + 1;
    while (j < order.size() && res(order[j]) == res(order[i]) &&
           scope(order[j]) == scope(order[i])) {
      ++j;
    }
    runs.push_back({i, j, order[i], order[i]});
    i = j;
  }
  for (size_t i = 0; i < runs.size();) {
    size_t j = i;
    uint32_t resource_first = runs[i].first;
    while (j < runs.size() && res(order[runs[j].begin]) == res(order[runs[i].begin])) {
      resource_first = std::min(resource_first, runs[j].first);
      ++j;
    }
    for (size_t k = i; k < j; ++k) runs[k].resource_first = resource_first;
    i = j;
  }
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) {
    return a.resource_first != b.resource_first ? a.resource_first < b.resource_first
                                                : a.first < b.first;
  });
  for (const Run& r : runs) {
    const uint32_t g = order[r.begin];
    if (plan->resources.empty() || plan->resources.back().resource != res(g)) {
      const auto s = static_cast<uint32_t>(plan->scopes.size());
      plan->resources.push_back({res(g), s, s});
    }
    plan->scopes.push_back({scope(g), r.begin, r.end});
    ++plan->resources.back().end;
  }
}

// ---- Requests --------------------------------------------------------------

template <class Traits, class Rec>
size_t RequestSize(std::span<const ScopedItems<typename Traits::Item>> groups, const Plan& plan,
                   Rec& rec) {
  size_t total = 0;
  for (const Plan::ResourceBlock& rb : plan.resources) {
    const size_t rs_slot = rec.Reserve();
    size_t rs = 0;
    if (rb.resource != nullptr) rs += LdSize(ResourceSize(*rb.resource, rec));
    for (uint32_t s = rb.begin; s < rb.end; ++s) {
      const Plan::ScopeBlock& sb = plan.scopes[s];
      const size_t ss_slot = rec.Reserve();
      size_t ss = 0;
      if (sb.scope != nullptr) ss += LdSize(ScopeSize(*sb.scope, rec));
      for (uint32_t i = sb.begin; i < sb.end; ++i) {
        for (const auto* item : groups[plan.order[i]].items) {
          ss += LdSize(Traits::Size(*item, rec));
        }
      }
      if (sb.scope != nullptr) ss += StringFieldSize(sb.scope->schema_url);
      rec.Set(ss_slot, ss);
      rs += LdSize(ss);
    }
    if (rb.resource != nullptr) rs += StringFieldSize(rb.resource->schema_url);
    rec.Set(rs_slot, rs);
    total += LdSize(rs);
  }
  return total;
}

template <class Traits>
char* PutRequest(char* p, std::span<const ScopedItems<typename Traits::Item>> groups,
                 const Plan& plan, SizeReader& rd) {
  for (const Plan::ResourceBlock& rb : plan.resources) {
    p = PutLd(p, Tag<1, kLen>(), rd.Take());
    if (rb.resource != nullptr) {
      p = PutLd(p, Tag<1, kLen>(), rd.Take());
      p = PutResource(p, *rb.resource, rd);
    }
    for (uint32_t s = rb.begin; s < rb.end; ++s) {
      const Plan::ScopeBlock& sb = plan.scopes[s];
      p = PutLd(p, Tag<2, kLen>(), rd.Take());
      if (sb.scope != nullptr) {
        p = PutLd(p, Tag<1, kLen>(), rd.Take());
        p = PutScope(p, *sb.scope, rd);
      }
      for (uint32_t i = sb.begin; i < sb.end; ++i) {
        for (const auto* item : groups[plan.order[i]].items) {
          p = PutLd(p, Tag<2, kLen>(), rd.Take());
          p = Traits::Put(p, *item, rd);
        }
      }
      if (sb.scope != nullptr) p = PutStringField(p, Tag<3, kLen>(), sb.scope->schema_url);
    }
    if (rb.resource != nullptr) p = PutStringField(p, Tag<3, kLen>(), rb.resource->schema_url);
  }
  return p;
}

template <class Traits>
void EncodeRequest(std::span<const ScopedItems<typename Traits::Item>> groups, std::string* out) {
  Plan plan;
  BuildPlan(groups, &plan);
  if (plan.items == 0) return;
  std::vector<size_t> sizes;
  sizes.reserve(4 * plan.items + 16);
  SizeRecorder rec(&sizes);
  const size_t total = RequestSize<Traits>(groups, plan, rec);
  const size_t old_size = out->size();
  out->resize(old_size + total);
  char* const begin = out->data() + old_size;
  SizeReader rd(sizes.data());
  [[maybe_unused]] char* const end = PutRequest<Traits>(begin, groups, plan, rd);
  assert(end == begin + total);
}

template <class Traits>
size_t EncodedRequestSize(std::span<const ScopedItems<typename Traits::Item>> groups) {
  Plan plan;
  BuildPlan(groups, &plan);
  NoRecorder rec;
  return RequestSize<Traits>(groups, plan, rec);
}

template <class Traits>
std::vector<RequestSplit<typename Traits::Item>> SplitGroups(
    std::span<const ScopedItems<typename Traits::Item>> groups, size_t max_request_bytes) {
  using Item = typename Traits::Item;
  Plan plan;
  BuildPlan(groups, &plan);
  NoRecorder nr;
  std::vector<RequestSplit<Item>> splits;
  RequestSplit<Item> current;
  // The current request's bytes, as sums of what is closed and what is open.
  size_t closed = 0;       // finished ResourceX fields
  size_t res_scopes = 0;   // finished ScopeX fields of the open ResourceX
  size_t scope_items = 0;  // item fields of the open ScopeX
  bool in_resource = false, in_scope = false;
  const auto close_scope = [&](size_t scope_fixed) {
    if (in_scope) res_scopes += LdSize(scope_fixed + scope_items);
    scope_items = 0;
    in_scope = false;
  };
  const auto close_resource = [&](size_t resource_fixed) {
    if (in_resource) closed += LdSize(resource_fixed + res_scopes);
    res_scopes = 0;
    in_resource = false;
  };
  const auto flush = [&] {
    if (current.groups.empty()) return;
    splits.push_back(std::move(current));
    current = RequestSplit<Item>();
    closed = res_scopes = scope_items = 0;
    in_resource = in_scope = false;
  };
  for (const Plan::ResourceBlock& rb : plan.resources) {
    const size_t resource_fixed =
        rb.resource == nullptr
            ? 0
            : LdSize(ResourceSize(*rb.resource, nr)) + StringFieldSize(rb.resource->schema_url);
    for (uint32_t s = rb.begin; s < rb.end; ++s) {
      const Plan::ScopeBlock& sb = plan.scopes[s];
      const size_t scope_fixed = sb.scope == nullptr ? 0
                                                     : LdSize(ScopeSize(*sb.scope, nr)) +
                                                           StringFieldSize(sb.scope->schema_url);
      for (uint32_t i = sb.begin; i < sb.end; ++i) {
        for (const Item* item : groups[plan.order[i]].items) {
          const size_t item_field = LdSize(Traits::Size(*item, nr));
          const auto size_with_item = [&] {
            return closed + LdSize(resource_fixed + res_scopes +
                                   LdSize(scope_fixed + scope_items + item_field));
          };
          size_t size = size_with_item();
          if (size > max_request_bytes && !current.groups.empty()) {
            flush();
            size = size_with_item();
          }
          if (!in_scope) {
            current.groups.push_back({rb.resource, sb.scope, {}});
            in_resource = in_scope = true;
          }
          current.groups.back().items.push_back(item);
          scope_items += item_field;
          current.encoded_size = size;
        }
      }
      close_scope(scope_fixed);
    }
    close_resource(resource_fixed);
  }
  flush();
  return splits;
}

}  // namespace

void EncodeTracesRequest(std::span<const ScopedItems<SpanData>> groups, std::string* out) {
  EncodeRequest<SpanTraits>(groups, out);
}
void EncodeTracesRequest(std::span<const ScopedItems<EncodedSpan>> groups, std::string* out) {
  EncodeRequest<EncodedSpanTraits>(groups, out);
}
void EncodeMetricsRequest(std::span<const ScopedItems<MetricData>> groups, std::string* out) {
  EncodeRequest<MetricTraits>(groups, out);
}
void EncodeLogsRequest(std::span<const ScopedItems<LogRecordData>> groups, std::string* out) {
  EncodeRequest<LogTraits>(groups, out);
}

size_t EncodedTracesRequestSize(std::span<const ScopedItems<SpanData>> groups) {
  return EncodedRequestSize<SpanTraits>(groups);
}
size_t EncodedMetricsRequestSize(std::span<const ScopedItems<MetricData>> groups) {
  return EncodedRequestSize<MetricTraits>(groups);
}
size_t EncodedLogsRequestSize(std::span<const ScopedItems<LogRecordData>> groups) {
  return EncodedRequestSize<LogTraits>(groups);
}

size_t EncodedSpanSize(const SpanData& span) {
  NoRecorder rec;
  return SpanSize(span, rec);
}
size_t EncodedMetricSize(const MetricData& metric) {
  NoRecorder rec;
  return MetricSize(metric, rec);
}
size_t EncodedLogRecordSize(const LogRecordData& record) {
  NoRecorder rec;
  return LogRecordSize(record, rec);
}

size_t LengthDelimitedFieldSize(size_t message_size) { return LdSize(message_size); }

std::vector<RequestSplit<SpanData>> SplitTracesRequest(
    std::span<const ScopedItems<SpanData>> groups, size_t max_request_bytes) {
  return SplitGroups<SpanTraits>(groups, max_request_bytes);
}
std::vector<RequestSplit<EncodedSpan>> SplitTracesRequest(
    std::span<const ScopedItems<EncodedSpan>> groups, size_t max_request_bytes) {
  return SplitGroups<EncodedSpanTraits>(groups, max_request_bytes);
}
std::vector<RequestSplit<MetricData>> SplitMetricsRequest(
    std::span<const ScopedItems<MetricData>> groups, size_t max_request_bytes) {
  return SplitGroups<MetricTraits>(groups, max_request_bytes);
}
std::vector<RequestSplit<LogRecordData>> SplitLogsRequest(
    std::span<const ScopedItems<LogRecordData>> groups, size_t max_request_bytes) {
  return SplitGroups<LogTraits>(groups, max_request_bytes);
}

}  // namespace tracewire::wire

#undef TW_INLINE
