#pragma once
// A bounds-checked reader of protobuf wire format that builds no objects.
//
// ProtoReader walks the fields of one message held in a caller-owned buffer
// and hands out views into it. It never reads outside the buffer: a truncated
// varint, a length past the end, an invalid wire type or field number 0 stops
// the walk and sets an error.
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
    uint64_t tag;
    if (!ReadVarint(&tag) || tag > 0xFFFFFFFFu) return Fail();
    f->number = static_cast<uint32_t>(tag >> 3);
    const uint32_t wt = static_cast<uint32_t>(tag & 7);
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
        if (!ReadVarint(&len) || len > static_cast<uint64_t>(end_ - p_)) return Fail();
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

  bool ok() const { return ok_; }
  bool at_end() const { return p_ >= end_; }
  const char* position() const { return p_; }

  // Decodes a varint from [*p, end). Advances *p. Returns false if truncated
  // or longer than 10 bytes.
  static bool DecodeVarint(const char** p, const char* end, uint64_t* out) {
    uint64_t result = 0;
    const char* q = *p;
    for (int shift = 0; shift < 70; shift += 7) {
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

 private:
  bool ReadVarint(uint64_t* out) {
    if (p_ < end_ && static_cast<uint8_t>(*p_) < 0x80) {  // One-byte fast path.
      *out = static_cast<uint8_t>(*p_++);
      return true;
    }
    return DecodeVarint(&p_, end_, out);
  }

  bool SkipGroup(uint32_t number, Field* f) {
    const char* body = p_;
    int depth = 1;
    while (p_ < end_) {
      const char* before = p_;
      uint64_t tag;
      if (!ReadVarint(&tag) || tag > 0xFFFFFFFFu) return false;
      const uint32_t wt = tag & 7;
      const uint32_t num = static_cast<uint32_t>(tag >> 3);
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
          if (!ReadVarint(&v) || v > static_cast<uint64_t>(end_ - p_)) return false;
          p_ += v;
          break;
        case 3:
          ++depth;
          if (depth > 64) return false;
          break;
        case 4:
          if (--depth == 0) {
            if (num != number) return false;
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
