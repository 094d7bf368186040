#pragma once
// Small text helpers shared by the propagators. Pure functions: thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tracewire::propagation {

// Optional whitespace of the HTTP grammar (space or tab).
inline bool IsOws(char c) { return c == ' ' || c == '\t'; }

inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// Lowercase hex digit value, or -1 (uppercase is invalid in trace headers).
inline int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Appends `n` bytes as lowercase hex.
inline void AppendHex(std::string& out, const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
}

}  // namespace tracewire::propagation
