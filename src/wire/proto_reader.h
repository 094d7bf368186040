#pragma once
// A bounds-checked reader of protobuf wire format that builds no objects.
//
// ProtoReader walks the fields of one message held in a caller-owned buffer
// and hands out views into it. It never reads outside the buffer: a truncated
// varint, a length past the end, an invalid wire type or field number 0 stops
// the walk and sets an error.
//
// It accepts exactly what libprotobuf's parser accepts: tags and lengths are
// varints of at most 5 bytes (a tag keeps its low 32 bits, as libprotobuf
// does), values up to 10 bytes; groups nest at most kMaxGroupDepth deep and
// each end-group tag must match its start.
//
// Thread-compatible: one reader per thread; the buffer must outlive it.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tracewire::wire {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// One field as read from the wire.
struct Field {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t value = 0;      // kVarint, kFixed32, kFixed64: the raw value.
  std::string_view bytes;  // kLen: the payload. kStartGroup: the group body.
  const char* begin = nullptr;  // First byte of the tag.
  const char* end = nullptr;    // One past the last byte of the field.
};

class ProtoReader {
 public:
  explicit ProtoReader(std::string_view data)
      : p_(data.data()), end_(data.data() + data.size()) {}

  // Reads the next field into *f. Returns false at the end of the message or
  // on malformed input; ok() tells which.
  bool Next(Field* f) {
    if (p_ >= end_ || !ok_) return false;
    f->begin = p_;
    uint32_t tag;
    if (!ReadTag(&tag)) return Fail();
    f->number = tag >> 3;
    const uint32_t wt = tag & 7;
    if (f->number == 0) return Fail();
    f->type = static_cast<WireType>(wt);
    switch (wt) {
      case 0:
        if (!ReadVarint(&f->value)) return Fail();
        break;
      case 1:
        if (end_ - p_ < 8) return Fail();
        std::memcpy(&f->value, p_, 8);  // Little-endian host (x86_64, aarch64).
        p_ += 8;
        break;
      case 5: {
        if (end_ - p_ < 4) return Fail();
        uint32_t v;
        std::memcpy(&v, p_, 4);
        f->value = v;
        p_ += 4;
        break;
      }
      case 2: {
        uint64_t len;
        if (!ReadLength(&len) || len > static_cast<uint64_t>(end_ - p_)) return Fail();
        f->bytes = std::string_view(p_, static_cast<size_t>(len));
        p_ += len;
        break;
      }
      case 3:
        if (!SkipGroup(f->number, f)) return Fail();
        break;
      default:  // 4 (an end-group without a start) and 6, 7 are invalid here.
        return Fail();
    }
    f->end = p_;
    return true;
  }

  // Groups nest at most this deep (libprotobuf's recursion limit).
  static constexpr int kMaxGroupDepth = 100;

  bool ok() const { return ok_; }
  bool at_end() const { return p_ >= end_; }
  const char* position() const { return p_; }

  // Decodes a varint from [*p, end). Advances *p. Returns false if truncated
  // or longer than 10 bytes.
  static bool DecodeVarint(const char** p, const char* end, uint64_t* out) {
    return DecodeVarintOfAtMost(10, p, end, out);
  }

 private:
  static bool DecodeVarintOfAtMost(int max_bytes, const char** p, const char* end,
                                   uint64_t* out) {
    uint64_t result = 0;
    const char* q = *p;
    for (int shift = 0; shift < 7 * max_bytes; shift += 7) {
      if (q >= end) return false;
      const uint8_t b = static_cast<uint8_t>(*q++);
      result |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (b < 0x80) {
        *p = q;
        *out = result;
        return true;
      }
    }
    return false;
  }

  bool ReadVarint(uint64_t* out) {
    if (p_ < end_ && static_cast<uint8_t>(*p_) < 0x80) {  // One-byte fast path.
      *out = static_cast<uint8_t>(*p_++);
      return true;
    }
    return DecodeVarint(&p_, end_, out);
  }

  // libprotobuf reads a tag as a varint of at most 5 bytes and keeps its low
  // 32 bits.
  bool ReadTag(uint32_t* out) {
    if (p_ < end_ && static_cast<uint8_t>(*p_) < 0x80) {
      *out = static_cast<uint8_t>(*p_++);
      return true;
    }
    uint64_t v;
    if (!DecodeVarintOfAtMost(5, &p_, end_, &v)) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }

  // libprotobuf reads a length as a varint of at most 5 bytes.
  bool ReadLength(uint64_t* out) {
    if (p_ < end_ && static_cast<uint8_t>(*p_) < 0x80) {
      *out = static_cast<uint8_t>(*p_++);
      return true;
    }
    return DecodeVarintOfAtMost(5, &p_, end_, out);
  }

  bool SkipGroup(uint32_t number, Field* f) {
    const char* body = p_;
    uint32_t open[kMaxGroupDepth];  // field numbers of the groups not yet closed
    int depth = 0;
    open[depth++] = number;
    while (p_ < end_) {
      const char* before = p_;
      uint32_t tag;
      if (!ReadTag(&tag)) return false;
      const uint32_t wt = tag & 7;
      const uint32_t num = tag >> 3;
      if (num == 0) return false;
      uint64_t v;
      switch (wt) {
        case 0:
          if (!ReadVarint(&v)) return false;
          break;
        case 1:
          if (end_ - p_ < 8) return false;
          p_ += 8;
          break;
        case 5:
          if (end_ - p_ < 4) return false;
          p_ += 4;
          break;
        case 2:
          if (!ReadLength(&v) || v > static_cast<uint64_t>(end_ - p_)) return false;
          p_ += v;
          break;
        case 3:
          if (depth == kMaxGroupDepth) return false;
          open[depth++] = num;
          break;
        case 4:
          if (open[--depth] != num) return false;
          if (depth == 0) {
            f->bytes = std::string_view(body, static_cast<size_t>(before - body));
            return true;
          }
          break;
        default:
          return false;
      }
    }
    return false;
  }

  bool Fail() {
    ok_ = false;
    return false;
  }

  const char* p_;
  const char* end_;
  bool ok_ = true;
};

// Zig-zag decoding for sint32/sint64.
inline int64_t ZigZagDecode64(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// Reads a packed run of varints. Returns false on a truncated run.
template <typename Fn>
bool ForEachPackedVarint(std::string_view bytes, Fn&& fn) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end) {
    uint64_t v;
    if (!ProtoReader::DecodeVarint(&p, end, &v)) return false;
    fn(v);
  }
  return true;
}

}  // namespace tracewire::wire
