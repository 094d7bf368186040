#include "wire/span_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "wire/json_values.h"
#include "wire/otlp_schema.h"
#include "wire/otlp_validate.h"
#include "wire/proto_reader.h"

namespace tracewire::wire {
namespace {

// JsonWriter refuses messages nested deeper than kMaxNestingDepth; this
// writer gives up two levels earlier, so that a slip in counting can only
// fall back, never succeed where JsonWriter fails.
constexpr int kMaxDepth = kMaxNestingDepth - 2;

// The output: written through a pointer into *s, whose size runs ahead of
// what is written (grown by resize in steps, as std::string grows) and is
// cut back by Finish. Every write of n bytes is preceded by Room(n).
class Out {
 public:
  explicit Out(std::string* s) : s_(s), p_(s->data() + s->size()), end_(p_) {}

  [[gnu::always_inline]] void Room(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) Grow(n);
  }
  [[gnu::always_inline]] void Char(char c) {
    Room(1);
    *p_++ = c;
  }
  [[gnu::always_inline]] void Str(std::string_view v) {
    Room(v.size());
    std::memcpy(p_, v.data(), v.size());
    p_ += v.size();
  }
  // Raw writes: pos() after Room(n), then Advance past at most n bytes.
  char* pos() const { return p_; }
  void Advance(char* p) { p_ = p; }
  // The bytes of *s so far, written ones and those before.
  size_t size() const { return static_cast<size_t>(p_ - s_->data()); }
  // Inserts b at offset `at` (<= size()), moving what follows.
  void Insert(size_t at, std::string_view b) {
    Room(b.size());
    char* base = s_->data();
    std::memmove(base + at + b.size(), base + at, size() - at);
    std::memcpy(base + at, b.data(), b.size());
    p_ += b.size();
  }
  void Finish() { s_->resize(size()); }

 private:
  [[gnu::noinline]] void Grow(size_t n) {
    const size_t used = size();
    s_->resize(std::max({used + n, used + 4096, 2 * s_->size()}));
    p_ = s_->data() + used;
    end_ = s_->data() + s_->size();
  }

  std::string* s_;
  char* p_;
  char* end_;
};

// Each Put* writes a value exactly as JsonWriter does (the function of
// otlp_json.cc named first in its comment); the tests compare every kind.

// Values as JsonWriter prints them (wire/json_values.h).
void PutHexId(std::string_view b, Out* out) {
  out->Room(JsonHexMax(b.size()));
  out->Advance(WriteJsonHex(b, out->pos()));
}

template <typename T>
void PutNumber(T v, bool quoted, Out* out) {
  out->Room(kJsonIntMax);
  out->Advance(WriteJsonInt(v, quoted, out->pos()));
}

void PutDouble(uint64_t bits, Out* out) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  out->Room(kJsonDoubleMax);
  out->Advance(WriteJsonDouble(d, out->pos()));
}

void PutBase64(std::string_view b, Out* out) {
  out->Room(JsonBase64Max(b.size()));
  out->Advance(WriteJsonBase64(b, out->pos()));
}

// True when a byte of `w` needs an escape: below 0x20, '"' or '\\'. Each
// (x - 0x01..) & ~x & 0x80.. test has no false negative, and a false
// positive only above a true one.
bool HasByteToEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t below_space = (w - 0x20 * kOnes) & ~w;
  const uint64_t q = w ^ (0x22 * kOnes);
  const uint64_t b = w ^ (0x5C * kOnes);
  return ((below_space | ((q - kOnes) & ~q) | ((b - kOnes) & ~b)) & kHigh) != 0;
}

// AppendJsonString: bytes >= 0x20 as they are (invalid UTF-8 too), '"' and
// '\\' escaped, \n \r \t, other controls as \u00XX.
void PutJsonString(std::string_view s, Out* out) {
  static const char kDigits[] = "0123456789abcdef";
  out->Room(2 + 6 * s.size());
  char* q = out->pos();
  *q++ = '"';
  const char* p = s.data();
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {  // Eight plain bytes at a time.
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (!HasByteToEscape(w)) {
        std::memcpy(q, p + i, 8);
        q += 8;
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i++];
    if (c >= 0x20 && c != '"' && c != '\\') {
      *q++ = static_cast<char>(c);
      continue;
    }
    *q++ = '\\';
    switch (c) {
      case '"':
      case '\\':
        *q++ = static_cast<char>(c);
        break;
      case '\n':
        *q++ = 'n';
        break;
      case '\r':
        *q++ = 'r';
        break;
      case '\t':
        *q++ = 't';
        break;
      default:
        *q++ = 'u';
        *q++ = '0';
        *q++ = '0';
        *q++ = kDigits[c >> 4];
        *q++ = kDigits[c & 15];
    }
  }
  *q++ = '"';
  out->Advance(q);
}

// Writes one message of the trace schema at `depth` (the request is 0, as in
// JsonWriter). Returns false to give up.
using WriteFn = bool (*)(std::string_view bytes, int depth, Out* out);

// One JSON object written in wire order. Each known field has a rank, its
// place in JsonWriter's (schema) order; a field whose rank is not above the
// last one's ends the fast path, except the next element of the repeated
// field whose array is open.
class Object {
 public:
  explicit Object(Out* out) : out_(out) { out_->Char('{'); }

  int rank() const { return rank_; }
  bool empty() const { return first_; }
  void MarkNotEmpty() { first_ = false; }
  void Close() {
    CloseArray();
    out_->Char('}');
  }

  // Starts a singular field of rank r; false when out of order or repeated.
  [[nodiscard, gnu::always_inline]] bool Singular(int r) {
    if (r <= rank_) return false;
    rank_ = r;
    CloseArray();
    return true;
  }
  // Writes `key` ("\"name\":") of a field that is printed, after a comma
  // unless it is the first.
  [[gnu::always_inline]] void Key(std::string_view key) {
    out_->Room(1 + key.size());
    char* p = out_->pos();
    *p = ',';
    p += !first_;
    std::memcpy(p, key.data(), key.size());  // a constant size once inlined
    out_->Advance(p + key.size());
    first_ = false;
  }
  // Starts the next element of the repeated field of rank r.
  [[nodiscard, gnu::always_inline]] bool Element(int r, std::string_view key) {
    if (r == rank_ && in_array_) {
      out_->Char(',');
      return true;
    }
    if (r <= rank_) return false;
    rank_ = r;
    CloseArray();
    Key(key);
    out_->Char('[');
    in_array_ = true;
    return true;
  }

  // The kinds of field. A field of another wire type than its kind's is
  // skipped (true), as JsonWriter skips it.
  [[nodiscard, gnu::always_inline]] bool String(int r, std::string_view key, const Field& f) {
    if (f.type != WireType::kLen) return true;
    if (!Singular(r)) return false;
    if (!f.bytes.empty()) {
      Key(key);
      PutJsonString(f.bytes, out_);
    }
    return true;
  }
  [[nodiscard, gnu::always_inline]] bool RepeatedString(int r, std::string_view key,
                                                        const Field& f) {
    if (f.type != WireType::kLen) return true;
    if (!Element(r, key)) return false;
    PutJsonString(f.bytes, out_);
    return true;
  }
  [[nodiscard, gnu::always_inline]] bool Id(int r, std::string_view key, const Field& f) {
    if (f.type != WireType::kLen) return true;
    if (!Singular(r)) return false;
    if (!f.bytes.empty()) {
      Key(key);
      PutHexId(f.bytes, out_);
    }
    return true;
  }
  // uint32 on the wire as a varint: its low 32 bits count.
  [[nodiscard, gnu::always_inline]] bool Uint32(int r, std::string_view key, const Field& f) {
    if (f.type != WireType::kVarint) return true;
    if (!Singular(r)) return false;
    if (static_cast<uint32_t>(f.value) != 0) {
      Key(key);
      PutNumber(static_cast<uint32_t>(f.value), false, out_);
    }
    return true;
  }
  [[nodiscard, gnu::always_inline]] bool Enum(int r, std::string_view key, const Field& f) {
    if (f.type != WireType::kVarint) return true;
    if (!Singular(r)) return false;
    if (static_cast<uint32_t>(f.value) != 0) {
      Key(key);
      PutNumber(static_cast<int32_t>(f.value), false, out_);
    }
    return true;
  }
  [[nodiscard, gnu::always_inline]] bool Fixed32(int r, std::string_view key, const Field& f) {
    if (f.type != WireType::kFixed32) return true;
    if (!Singular(r)) return false;
    if (f.value != 0) {
      Key(key);
      PutNumber(static_cast<uint32_t>(f.value), false, out_);
    }
    return true;
  }
  [[nodiscard, gnu::always_inline]] bool Fixed64(int r, std::string_view key, const Field& f) {
    if (f.type != WireType::kFixed64) return true;
    if (!Singular(r)) return false;
    if (f.value != 0) {
      Key(key);
      PutNumber(f.value, true, out_);
    }
    return true;
  }
  // A singular message: has presence, printed even when empty.
  [[nodiscard, gnu::always_inline]] bool Message(int r, std::string_view key, const Field& f,
                                                 WriteFn write, int depth) {
    if (f.type != WireType::kLen) return true;
    if (!Singular(r)) return false;
    Key(key);
    return write(f.bytes, depth + 1, out_);
  }
  [[nodiscard, gnu::always_inline]] bool RepeatedMessage(int r, std::string_view key,
                                                         const Field& f, WriteFn write, int depth) {
    if (f.type != WireType::kLen) return true;
    if (!Element(r, key)) return false;
    return write(f.bytes, depth + 1, out_);
  }

 private:
  void CloseArray() {
    if (in_array_) {
      out_->Char(']');
      in_array_ = false;
    }
  }

  Out* out_;
  int rank_ = -1;
  bool first_ = true;
  bool in_array_ = false;
};

// Reads the fields of `bytes`, hands each to `field` (false: give up), and
// closes the object. The body of every writer below.
template <typename FieldFn>
[[gnu::flatten]] bool WriteObject(std::string_view bytes, int depth, Out* out, FieldFn&& field) {
  if (depth > kMaxDepth) return false;
  Object o(out);
  ProtoReader r(bytes);
  Field f;
  while (r.Next(&f)) {
    if (!field(o, f)) return false;
  }
  if (!r.ok()) return false;
  o.Close();
  return true;
}

bool WriteKeyValue(std::string_view bytes, int depth, Out* out);

bool WriteArrayValue(std::string_view bytes, int depth, Out* out);
bool WriteKeyValueList(std::string_view bytes, int depth, Out* out);

// AnyValue: a oneof, each member printed even when it holds its default.
[[gnu::flatten]] bool WriteAnyValue(std::string_view bytes, int depth, Out* out) {
  // The wire type of each member, by field number (kStartGroup: no member).
  static constexpr WireType kMemberType[8] = {
      WireType::kStartGroup, WireType::kLen, WireType::kVarint, WireType::kVarint,
      WireType::kFixed64,    WireType::kLen, WireType::kLen,    WireType::kLen};
  if (depth > kMaxDepth) return false;
  out->Char('{');
  ProtoReader r(bytes);
  Field f;
  bool set = false;
  while (r.Next(&f)) {
    if (f.number > 7 || f.type != kMemberType[f.number]) continue;
    if (set) return false;  // Another member: JsonWriter keeps the last one.
    set = true;
    switch (f.number) {
      case 1:
        out->Str("\"stringValue\":");
        PutJsonString(f.bytes, out);
        break;
      case 2:
        out->Str(f.value != 0 ? "\"boolValue\":true" : "\"boolValue\":false");
        break;
      case 3:
        out->Str("\"intValue\":");
        PutNumber(static_cast<int64_t>(f.value), true, out);
        break;
      case 4:
        out->Str("\"doubleValue\":");
        PutDouble(f.value, out);
        break;
      case 5:
        out->Str("\"arrayValue\":");
        if (!WriteArrayValue(f.bytes, depth + 1, out)) return false;
        break;
      case 6:
        out->Str("\"kvlistValue\":");
        if (!WriteKeyValueList(f.bytes, depth + 1, out)) return false;
        break;
      default:  // 7
        out->Str("\"bytesValue\":");
        PutBase64(f.bytes, out);
    }
  }
  if (!r.ok()) return false;
  out->Char('}');
  return true;
}

bool WriteArrayValue(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [depth](Object& o, const Field& f) {
    return f.number != 1 || o.RepeatedMessage(1, "\"values\":", f, WriteAnyValue, depth);
  });
}

bool WriteKeyValueList(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [depth](Object& o, const Field& f) {
    return f.number != 1 || o.RepeatedMessage(1, "\"values\":", f, WriteKeyValue, depth);
  });
}

bool WriteKeyValue(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [depth](Object& o, const Field& f) {
    switch (f.number) {
      case 1:
        return o.String(1, "\"key\":", f);
      case 2:
        return o.Message(2, "\"value\":", f, WriteAnyValue, depth);
    }
    return true;  // unknown
  });
}

bool WriteEntityRef(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [](Object& o, const Field& f) {
    switch (f.number) {
      case 1:
        return o.String(1, "\"schemaUrl\":", f);
      case 2:
        return o.String(2, "\"type\":", f);
      case 3:
        return o.RepeatedString(3, "\"idKeys\":", f);
      case 4:
        return o.RepeatedString(4, "\"descriptionKeys\":", f);
    }
    return true;
  });
}

bool WriteResource(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [depth](Object& o, const Field& f) {
    switch (f.number) {
      case 1:
        return o.RepeatedMessage(1, "\"attributes\":", f, WriteKeyValue, depth);
      case 2:
        return o.Uint32(2, "\"droppedAttributesCount\":", f);
      case 3:
        return o.RepeatedMessage(3, "\"entityRefs\":", f, WriteEntityRef, depth);
    }
    return true;
  });
}

bool WriteScope(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [depth](Object& o, const Field& f) {
    switch (f.number) {
      case 1:
        return o.String(1, "\"name\":", f);
      case 2:
        return o.String(2, "\"version\":", f);
      case 3:
        return o.RepeatedMessage(3, "\"attributes\":", f, WriteKeyValue, depth);
      case 4:
        return o.Uint32(4, "\"droppedAttributesCount\":", f);
    }
    return true;
  });
}

bool WriteStatus(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [](Object& o, const Field& f) {
    switch (f.number) {
      case 2:
        return o.String(2, "\"message\":", f);
      case 3:
        return o.Enum(3, "\"code\":", f);
    }
    return true;  // 1, the deprecated code, is not in the schema
  });
}

bool WriteEvent(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [depth](Object& o, const Field& f) {
    switch (f.number) {
      case 1:
        return o.Fixed64(1, "\"timeUnixNano\":", f);
      case 2:
        return o.String(2, "\"name\":", f);
      case 3:
        return o.RepeatedMessage(3, "\"attributes\":", f, WriteKeyValue, depth);
      case 4:
        return o.Uint32(4, "\"droppedAttributesCount\":", f);
    }
    return true;
  });
}

bool WriteLink(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [depth](Object& o, const Field& f) {
    switch (f.number) {
      case 1:
        return o.Id(1, "\"traceId\":", f);
      case 2:
        return o.Id(2, "\"spanId\":", f);
      case 3:
        return o.String(3, "\"traceState\":", f);
      case 4:
        return o.RepeatedMessage(4, "\"attributes\":", f, WriteKeyValue, depth);
      case 5:
        return o.Uint32(5, "\"droppedAttributesCount\":", f);
      case 6:
        return o.Fixed32(6, "\"flags\":", f);
    }
    return true;
  });
}

// Span: JSON order puts flags (16) after parentSpanId (4), while serializers
// write it last. Field n has rank 2n and flags rank 9; a flags field that
// comes after fields 5..15 is inserted where it belongs, at the offset
// remembered before the first of them.
bool WriteSpan(std::string_view bytes, int depth, Out* out) {
  constexpr int kFlagsRank = 9;
  size_t flags_at = 0;       // where a late flags goes
  bool flags_first = false;  // nothing was written before flags_at
  bool flags_seen = false;
  return WriteObject(bytes, depth, out, [&](Object& o, const Field& f) {
    if (f.number >= 5 && f.number <= 15 && o.rank() < kFlagsRank) {
      flags_at = out->size();
      flags_first = o.empty();
    }
    switch (f.number) {
      case 1:
        return o.Id(2, "\"traceId\":", f);
      case 2:
        return o.Id(4, "\"spanId\":", f);
      case 3:
        return o.String(6, "\"traceState\":", f);
      case 4:
        return o.Id(8, "\"parentSpanId\":", f);
      case 5:
        return o.String(10, "\"name\":", f);
      case 6:
        return o.Enum(12, "\"kind\":", f);
      case 7:
        return o.Fixed64(14, "\"startTimeUnixNano\":", f);
      case 8:
        return o.Fixed64(16, "\"endTimeUnixNano\":", f);
      case 9:
        return o.RepeatedMessage(18, "\"attributes\":", f, WriteKeyValue, depth);
      case 10:
        return o.Uint32(20, "\"droppedAttributesCount\":", f);
      case 11:
        return o.RepeatedMessage(22, "\"events\":", f, WriteEvent, depth);
      case 12:
        return o.Uint32(24, "\"droppedEventsCount\":", f);
      case 13:
        return o.RepeatedMessage(26, "\"links\":", f, WriteLink, depth);
      case 14:
        return o.Uint32(28, "\"droppedLinksCount\":", f);
      case 15:
        return o.Message(30, "\"status\":", f, WriteStatus, depth);
      case 16: {
        if (f.type != WireType::kFixed32) return true;
        if (flags_seen) return false;
        flags_seen = true;
        if (o.rank() < kFlagsRank) return o.Fixed32(kFlagsRank, "\"flags\":", f);
        if (f.value == 0) return true;
        char buf[32];
        char* p = buf;
        if (!flags_first) *p++ = ',';
        std::memcpy(p, "\"flags\":", 8);
        p = std::to_chars(p + 8, buf + sizeof(buf) - 1, static_cast<uint32_t>(f.value)).ptr;
        if (flags_first) {
          if (out->size() > flags_at) *p++ = ',';  // before the first field written
          o.MarkNotEmpty();
        }
        out->Insert(flags_at, std::string_view(buf, static_cast<size_t>(p - buf)));
        return true;
      }
    }
    return true;
  });
}

bool WriteScopeSpans(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [depth](Object& o, const Field& f) {
    switch (f.number) {
      case 1:
        return o.Message(1, "\"scope\":", f, WriteScope, depth);
      case 2:
        return o.RepeatedMessage(2, "\"spans\":", f, WriteSpan, depth);
      case 3:
        return o.String(3, "\"schemaUrl\":", f);
    }
    return true;
  });
}

bool WriteResourceSpans(std::string_view bytes, int depth, Out* out) {
  return WriteObject(bytes, depth, out, [depth](Object& o, const Field& f) {
    switch (f.number) {
      case 1:
        return o.Message(1, "\"resource\":", f, WriteResource, depth);
      case 2:
        return o.RepeatedMessage(2, "\"scopeSpans\":", f, WriteScopeSpans, depth);
      case 3:
        return o.String(3, "\"schemaUrl\":", f);
    }
    return true;
  });
}

bool WriteRequest(std::string_view bytes, Out* out) {
  return WriteObject(bytes, 0, out, [](Object& o, const Field& f) {
    return f.number != 1 || o.RepeatedMessage(1, "\"resourceSpans\":", f, WriteResourceSpans, 0);
  });
}

}  // namespace

bool TryAppendTracesJson(std::string_view bytes, std::string* out) {
  const size_t start = out->size();
  Out o(out);
  o.Room(2 * bytes.size() + 64);  // most requests write about twice their size
  if (WriteRequest(bytes, &o)) {
    o.Finish();
    return true;
  }
  out->resize(start);
  return false;
}

bool AppendTracesJson(std::string_view bytes, JsonWriter* fallback, std::string* out) {
  return TryAppendTracesJson(bytes, out) ||
         fallback->Append(bytes, schema::kExportTraceServiceRequest, out);
}

}  // namespace tracewire::wire
