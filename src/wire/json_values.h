#pragma once
// How OTLP/JSON prints each kind of value, in one place for both writers
// (JsonWriter in otlp_json.h and the traces writer in span_json.h), whose
// outputs must be byte-identical: ids as lowercase hex, other bytes as
// padded standard base64, 64-bit integers quoted, doubles in their shortest
// round-trip form with NaN and the infinities as strings.
//
// Each Write* writes at `p` and returns the end; the caller gives it the
// room its *Max names. AppendJsonValue runs one on a std::string.
//
// Stateless; safe from any thread.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tracewire::wire {

inline constexpr size_t JsonHexMax(size_t n) { return 2 + 2 * n; }
inline char* WriteJsonHex(std::string_view b, char* p) {
  static constexpr char kDigits[] = "0123456789abcdef";
  *p++ = '"';
  for (unsigned char c : b) {
    *p++ = kDigits[c >> 4];
    *p++ = kDigits[c & 15];
  }
  *p++ = '"';
  return p;
}

inline constexpr size_t JsonBase64Max(size_t n) { return 2 + 4 * ((n + 2) / 3); }
inline char* WriteJsonBase64(std::string_view b, char* q) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  *q++ = '"';
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    const uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    *q++ = kAlphabet[v >> 18];
    *q++ = kAlphabet[(v >> 12) & 63];
    *q++ = kAlphabet[(v >> 6) & 63];
    *q++ = kAlphabet[v & 63];
  }
  if (i < b.size()) {
    uint32_t v = p[i] << 16;
    if (i + 1 < b.size()) v |= p[i + 1] << 8;
    *q++ = kAlphabet[v >> 18];
    *q++ = kAlphabet[(v >> 12) & 63];
    *q++ = i + 1 < b.size() ? kAlphabet[(v >> 6) & 63] : '=';
    *q++ = '=';
  }
  *q++ = '"';
  return q;
}

// Decimal; quoted for the 64-bit kinds (a quoted int64 or uint64 needs 22).
inline constexpr size_t kJsonIntMax = 24;
template <typename T>
char* WriteJsonInt(T v, bool quoted, char* p) {
  if (quoted) *p++ = '"';
  p = std::to_chars(p, p + 21, v).ptr;
  if (quoted) *p++ = '"';
  return p;
}

inline constexpr size_t kJsonDoubleMax = 32;
inline char* WriteJsonDouble(double d, char* p) {
  std::string_view special;
  if (std::isnan(d)) {
    special = "\"NaN\"";
  } else if (std::isinf(d)) {
    special = d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    return std::to_chars(p, p + kJsonDoubleMax, d).ptr;  // shortest round-trip form
  }
  for (char c : special) *p++ = c;
  return p;
}

// Appends to *out what `write` writes into at most `max` bytes.
template <typename Write>
void AppendJsonValue(std::string* out, size_t max, Write write) {
  const size_t at = out->size();
  out->resize(at + max);
  char* end = write(out->data() + at);
  out->resize(static_cast<size_t>(end - out->data()));
}

}  // namespace tracewire::wire
