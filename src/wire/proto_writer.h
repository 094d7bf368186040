#pragma once
// Small helpers that append protobuf wire format to a std::string.
// Pure functions on the caller's string: thread-compatible.

#include <cstdint>
#include <string>
#include <string_view>

namespace tracewire::wire {

inline void AppendVarint(std::string* out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

inline void AppendLenField(std::string* out, uint32_t number, std::string_view payload) {
  AppendVarint(out, (static_cast<uint64_t>(number) << 3) | 2);
  AppendVarint(out, payload.size());
  out->append(payload);
}

}  // namespace tracewire::wire
