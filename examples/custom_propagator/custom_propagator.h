#pragma once
// An example of implementing tracewire::TextMapPropagator: a propagator for a
// legacy system that sends the trace as two headers,
//
//   x-custom-trace-id: 32 lowercase hex digits
//   x-custom-span-id:  16 lowercase hex digits
//
// and has no sampling flag: everything it sends was sampled. Inject writes
// both headers for a valid span context; Extract needs both, well formed and
// not all zero, and otherwise leaves the context unchanged (a propagator
// never fails, it just finds nothing).
//
// Stateless, so thread-safe, like every propagator.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tracewire/propagation.h"

namespace example {

class CustomPropagator final : public tracewire::TextMapPropagator {
 public:
  static constexpr std::string_view kTraceIdHeader = "x-custom-trace-id";
  static constexpr std::string_view kSpanIdHeader = "x-custom-span-id";

  void Inject(tracewire::TextMapCarrier& carrier,
              const tracewire::Context& context) const override {
    const tracewire::SpanContext& sc = context.span_context();
    if (!sc.IsValid()) return;
    carrier.Set(kTraceIdHeader, ToHex(sc.trace_id));
    carrier.Set(kSpanIdHeader, ToHex(sc.span_id));
  }

  tracewire::Context Extract(const tracewire::TextMapCarrier& carrier,
                             const tracewire::Context& context) const override {
    const std::optional<std::string_view> trace_id = carrier.Get(kTraceIdHeader);
    const std::optional<std::string_view> span_id = carrier.Get(kSpanIdHeader);
    if (!trace_id || !span_id) return context;
    tracewire::SpanContext sc;
    if (!FromHex(*trace_id, sc.trace_id) || !FromHex(*span_id, sc.span_id) || !sc.IsValid()) {
      return context;
    }
    sc.trace_flags = tracewire::kTraceFlagSampled;
    sc.is_remote = true;
    return context.WithSpanContext(std::move(sc));
  }

  std::vector<std::string> Fields() const override {
    return {std::string(kTraceIdHeader), std::string(kSpanIdHeader)};
  }

 private:
  template <size_t N>
  static std::string ToHex(const std::array<uint8_t, N>& id) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * N);
    for (uint8_t b : id) {
      s.push_back(kDigits[b >> 4]);
      s.push_back(kDigits[b & 0xf]);
    }
    return s;
  }

  // Exactly 2*N lowercase hex digits.
  template <size_t N>
  static bool FromHex(std::string_view s, std::array<uint8_t, N>& out) {
    if (s.size() != 2 * N) return false;
    auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    for (size_t i = 0; i < N; ++i) {
      const int hi = digit(s[2 * i]), lo = digit(s[2 * i + 1]);
      if (hi < 0 || lo < 0) return false;
      out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return true;
  }
};

}  // namespace example
