// B3 propagator (https://github.com/openzipkin/b3-propagation), single and
// multi header.
//
//   single: b3: {traceid}-{spanid}[-{sampling}[-{parentspanid}]]
//   multi:  X-B3-TraceId, X-B3-SpanId, X-B3-Sampled, X-B3-Flags,
//           X-B3-ParentSpanId
//
// Ids are lowercase hex; a trace id is 32 or 16 digits, a 16-digit one is
// left-padded with zeros to 128 bits. Sampling is 0, 1 or d (debug, which
// implies sampled); a lone sampling state ("0", "1", "d") carries no ids and
// so no context. X-B3-Sampled is 1/0/true/false; X-B3-Flags: 1 is debug
// (sampled). The parent span id is checked for form but otherwise ignored,
// since a SpanContext has no parent. A missing sampling state (deferred) is
// extracted as not sampled.
//
// Extract tries the single header first and falls back to the multi headers
// when it is missing or invalid, whichever format the propagator injects (as
// the OpenTelemetry B3 spec requires). Keys are looked up lowercase first,
// then in their canonical mixed case ("X-B3-TraceId"), for carriers that
// compare keys exactly. Inject writes lowercase keys, in the one format chosen
// at construction, with an explicit sampling state (1 or 0), and only for a
// valid span context.
//
// Immutable after construction, so thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "propagation/text_util.h"
#include "tracewire/propagation.h"

namespace tracewire {
namespace {

using propagation::AppendHex;
using propagation::IsOws;
using propagation::LowerHexValue;
using propagation::TrimOws;

struct Key {
  std::string_view lower;
  std::string_view canonical;
};

constexpr Key kB3 = {"b3", "B3"};
constexpr Key kTraceIdKey = {"x-b3-traceid", "X-B3-TraceId"};
constexpr Key kSpanIdKey = {"x-b3-spanid", "X-B3-SpanId"};
constexpr Key kParentSpanIdKey = {"x-b3-parentspanid", "X-B3-ParentSpanId"};
constexpr Key kSampledKey = {"x-b3-sampled", "X-B3-Sampled"};
constexpr Key kFlagsKey = {"x-b3-flags", "X-B3-Flags"};

std::optional<std::string_view> Get(const TextMapCarrier& carrier, const Key& key) {
  if (std::optional<std::string_view> v = carrier.Get(key.lower)) return v;
  return carrier.Get(key.canonical);
}

// Parses s.size()/2 bytes of lowercase hex into the tail of `out` (so a
// 16-digit trace id is left-padded with zeros). False when s is malformed or
// the result is all zero.
template <size_t N>
bool ParseId(std::string_view s, std::array<uint8_t, N>& out) {
  if (s.size() % 2 != 0 || s.size() > 2 * N) return false;
  out.fill(0);
  const size_t offset = N - s.size() / 2;
  bool nonzero = false;
  for (size_t i = 0; i < s.size() / 2; ++i) {
    const int hi = LowerHexValue(s[2 * i]);
    const int lo = LowerHexValue(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[offset + i] = static_cast<uint8_t>(hi << 4 | lo);
    nonzero |= out[offset + i] != 0;
  }
  return nonzero;
}

bool ParseTraceId(std::string_view s, TraceId& out) {
  return (s.size() == 32 || s.size() == 16) && ParseId(s, out);
}
bool ParseSpanId(std::string_view s, SpanId& out) { return s.size() == 16 && ParseId(s, out); }

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& a) {
  std::string s;
  s.reserve(2 * N);
  AppendHex(s, a.data(), N);
  return s;
}

std::optional<SpanContext> ParseSingle(std::string_view v) {
  v = TrimOws(v);
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t dash = v.find('-', start);
    parts.push_back(v.substr(start, dash == std::string_view::npos ? v.npos : dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  // A lone sampling state carries no ids; more than four fields is malformed.
  if (parts.size() < 2 || parts.size() > 4) return std::nullopt;
  SpanContext sc;
  if (!ParseTraceId(parts[0], sc.trace_id) || !ParseSpanId(parts[1], sc.span_id)) {
    return std::nullopt;
  }
  if (parts.size() >= 3) {
    if (parts[2] == "1" || parts[2] == "d") {
      sc.trace_flags = kTraceFlagSampled;
    } else if (parts[2] != "0") {
      return std::nullopt;
    }
  }
  if (parts.size() == 4) {
    SpanId parent;
    if (!ParseSpanId(parts[3], parent)) return std::nullopt;
  }
  sc.is_remote = true;
  return sc;
}

std::optional<SpanContext> ParseMulti(const TextMapCarrier& carrier) {
  const std::optional<std::string_view> trace_id = Get(carrier, kTraceIdKey);
  const std::optional<std::string_view> span_id = Get(carrier, kSpanIdKey);
  if (!trace_id || !span_id) return std::nullopt;
  SpanContext sc;
  if (!ParseTraceId(TrimOws(*trace_id), sc.trace_id) ||
      !ParseSpanId(TrimOws(*span_id), sc.span_id)) {
    return std::nullopt;
  }
  if (const std::optional<std::string_view> sampled = Get(carrier, kSampledKey)) {
    const std::string_view s = TrimOws(*sampled);
    if (s == "1" || s == "true") {
      sc.trace_flags = kTraceFlagSampled;
    } else if (s != "0" && s != "false") {
      return std::nullopt;
    }
  }
  if (const std::optional<std::string_view> flags = Get(carrier, kFlagsKey)) {
    const std::string_view f = TrimOws(*flags);
    if (f == "1") {
      sc.trace_flags = kTraceFlagSampled;  // debug implies sampled
    } else if (f != "0") {
      return std::nullopt;
    }
  }
  sc.is_remote = true;
  return sc;
}

class B3Propagator final : public TextMapPropagator {
 public:
  explicit B3Propagator(bool single_header) : single_header_(single_header) {}

  void Inject(TextMapCarrier& carrier, const Context& context) const override {
    const SpanContext& sc = context.span_context();
    if (!sc.IsValid()) return;
    const std::string_view sampled = sc.IsSampled() ? "1" : "0";
    if (single_header_) {
      std::string v = Hex(sc.trace_id);
      v.push_back('-');
      v.append(Hex(sc.span_id));
      v.push_back('-');
      v.append(sampled);
      carrier.Set(kB3.lower, v);
    } else {
      carrier.Set(kTraceIdKey.lower, Hex(sc.trace_id));
      carrier.Set(kSpanIdKey.lower, Hex(sc.span_id));
      carrier.Set(kSampledKey.lower, sampled);
    }
  }

  Context Extract(const TextMapCarrier& carrier, const Context& context) const override {
    std::optional<SpanContext> sc;
    if (const std::optional<std::string_view> single = Get(carrier, kB3)) sc = ParseSingle(*single);
    if (!sc) sc = ParseMulti(carrier);
    if (!sc) return context;
    return context.WithSpanContext(std::move(*sc));
  }

  // Both formats are read, so all their headers are listed; the injected
  // format comes first.
  std::vector<std::string> Fields() const override {
    std::vector<std::string> multi = {std::string(kTraceIdKey.lower), std::string(kSpanIdKey.lower),
                                      std::string(kParentSpanIdKey.lower),
                                      std::string(kSampledKey.lower), std::string(kFlagsKey.lower)};
    std::vector<std::string> fields;
    if (single_header_) fields.emplace_back(kB3.lower);
    fields.insert(fields.end(), multi.begin(), multi.end());
    if (!single_header_) fields.emplace_back(kB3.lower);
    return fields;
  }

 private:
  const bool single_header_;
};

}  // namespace

std::unique_ptr<TextMapPropagator> MakeB3Propagator(bool single_header) {
  return std::make_unique<B3Propagator>(single_header);
}

}  // namespace tracewire
