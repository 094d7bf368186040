#pragma once
// Protobuf wire-format primitives for the encoders that write OTLP bytes
// forward into a buffer sized beforehand (wire/otlp_encoder.cc, the SDK's
// record encoder): field sizes, tags, varints, fixed-width values, copies.
// The caller guarantees the room; nothing here checks or allocates.
//
// Pure functions: thread-safe.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"

// Forced inlining of the small helpers: at -O2, GCC otherwise leaves calls to
// some of them in the per-field loops, which costs about a third.
#ifndef TW_INLINE
#define TW_INLINE ABSL_ATTRIBUTE_ALWAYS_INLINE inline
#endif

namespace tracewire::wire {

// ---- Wire primitives -------------------------------------------------------

// Wire types, as they appear in tags.
enum TagType : uint8_t { kVarint = 0, kI64 = 1, kLen = 2, kI32 = 5 };

// The one-byte tag of a field numbered 1..15.
template <int kField, TagType kType>
constexpr uint8_t Tag() {
  static_assert(kField > 0 && kField < 16, "one-byte tags only");
  return static_cast<uint8_t>((kField << 3) | kType);
}

// Most varints here (lengths of keys, values, attributes) are one byte: a
// predicted branch beats the arithmetic's dependency chain.
TW_INLINE size_t VarintSize(uint64_t v) {
  if (ABSL_PREDICT_TRUE(v < 0x80)) return 1;
  return (static_cast<size_t>(std::bit_width(v)) * 9 + 64) / 64;
}
// A length-delimited field with a one-byte tag.
TW_INLINE size_t LdSize(size_t n) { return 1 + VarintSize(n) + n; }
TW_INLINE size_t StringFieldSize(std::string_view s) { return s.empty() ? 0 : LdSize(s.size()); }
TW_INLINE size_t VarintFieldSize(uint64_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }
TW_INLINE size_t Fixed64FieldSize(uint64_t v) { return v == 0 ? 0 : 9; }
// proto3 omits a double whose bits are zero (+0.0 only; -0.0 is written).
TW_INLINE bool IsZeroBits(double d) { return std::bit_cast<uint64_t>(d) == 0; }
TW_INLINE size_t DoubleFieldSize(double d) { return IsZeroBits(d) ? 0 : 9; }
TW_INLINE uint32_t ZigZag32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}

TW_INLINE char* PutByte(char* p, uint8_t b) {
  *p = static_cast<char>(b);
  return p + 1;
}
TW_INLINE char* PutVarint(char* p, uint64_t v) {
  if (ABSL_PREDICT_TRUE(v < 0x80)) {
    *p = static_cast<char>(v);
    return p + 1;
  }
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
TW_INLINE char* PutFixed64(char* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 8);
  } else {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
  }
  return p + 8;
}
TW_INLINE char* PutFixed32(char* p, uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 4);
  } else {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
  }
  return p + 4;
}
// Copies n bytes; short strings (keys, most values) without a call to memcpy.
TW_INLINE char* PutRaw(char* p, const void* data, size_t n) {
  const char* src = static_cast<const char*>(data);
  if (n <= 16) {
    if (n >= 8) {
      uint64_t a, b;
      std::memcpy(&a, src, 8);
      std::memcpy(&b, src + n - 8, 8);
      std::memcpy(p, &a, 8);
      std::memcpy(p + n - 8, &b, 8);
    } else if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, src, 4);
      std::memcpy(&b, src + n - 4, 4);
      std::memcpy(p, &a, 4);
      std::memcpy(p + n - 4, &b, 4);
    } else {
      for (size_t i = 0; i < n; ++i) p[i] = src[i];
    }
  } else {
    std::memcpy(p, src, n);
  }
  return p + n;
}
// A length-delimited field's tag and length; the caller writes the payload.
TW_INLINE char* PutLd(char* p, uint8_t tag, size_t n) { return PutVarint(PutByte(p, tag), n); }
TW_INLINE char* PutBytesField(char* p, uint8_t tag, const void* data, size_t n) {
  return PutRaw(PutLd(p, tag, n), data, n);
}
TW_INLINE char* PutStringField(char* p, uint8_t tag, std::string_view s) {
  return s.empty() ? p : PutBytesField(p, tag, s.data(), s.size());
}
TW_INLINE char* PutVarintField(char* p, uint8_t tag, uint64_t v) {
  return v == 0 ? p : PutVarint(PutByte(p, tag), v);
}
TW_INLINE char* PutFixed64Field(char* p, uint8_t tag, uint64_t v) {
  return v == 0 ? p : PutFixed64(PutByte(p, tag), v);
}
TW_INLINE char* PutDouble(char* p, uint8_t tag, double d) {
  return PutFixed64(PutByte(p, tag), std::bit_cast<uint64_t>(d));
}
TW_INLINE char* PutDoubleField(char* p, uint8_t tag, double d) {
  return IsZeroBits(d) ? p : PutDouble(p, tag, d);
}

}  // namespace tracewire::wire
