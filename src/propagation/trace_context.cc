// W3C Trace Context propagator (https://www.w3.org/TR/trace-context/):
// the `traceparent` and `tracestate` headers.
//
// Extract follows the spec's parsing rules exactly:
//  * traceparent: optional whitespace (SP / HTAB) around the value is ignored,
//    as for any HTTP field value (the W3C test suite's OWS cases). Then
//    "version-traceid-parentid-flags", lowercase hex only. Version ff is
//    invalid. Version 00 is exactly 55 characters. A higher version may be
//    longer if the character after the flags is '-'; only the version-00
//    fields are read, and of its flags only the sampled bit (the spec: "parse
//    the sampled bit of flags"), since a future version may give the other
//    bits other meanings. Version-00 flags are kept as sent (all 8 bits).
//    Neither id may be all zero. Anything else leaves the context unchanged.
//  * tracestate: only read with a valid traceparent. A comma-separated list
//    of key=value members with optional whitespace around each, empty
//    members allowed and skipped, at most 32 members, no duplicate keys; keys
//    and values per the spec grammar. Any violation discards the whole
//    tracestate but keeps the traceparent. The stored value is the canonical
//    form: members joined by ',' without the whitespace and empty members.
//
// Stateless, so thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <set>
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

constexpr std::string_view kTraceParent = "traceparent";
constexpr std::string_view kTraceState = "tracestate";
// "00-" + 32 + "-" + 16 + "-" + 2.
constexpr size_t kTraceParentSize = 55;
constexpr size_t kMaxTraceStateMembers = 32;
constexpr size_t kMaxSimpleKeySize = 256;
constexpr size_t kMaxTenantIdSize = 241;
constexpr size_t kMaxSystemIdSize = 14;
constexpr size_t kMaxValueSize = 256;

// Parses exactly 2*N lowercase hex digits into `out`.
template <size_t N>
bool ParseLowerHex(std::string_view s, std::array<uint8_t, N>& out) {
  if (s.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    const int hi = LowerHexValue(s[2 * i]);
    const int lo = LowerHexValue(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <size_t N>
bool IsAllZero(const std::array<uint8_t, N>& a) {
  for (uint8_t b : a) {
    if (b != 0) return false;
  }
  return true;
}

std::optional<SpanContext> ParseTraceParent(std::string_view v) {
  v = TrimOws(v);
  if (v.size() < kTraceParentSize) return std::nullopt;
  std::array<uint8_t, 1> version;
  if (!ParseLowerHex(v.substr(0, 2), version) || version[0] == 0xff) return std::nullopt;
  if (version[0] == 0x00 && v.size() != kTraceParentSize) return std::nullopt;
  if (v.size() > kTraceParentSize && v[kTraceParentSize] != '-') return std::nullopt;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  SpanContext sc;
  std::array<uint8_t, 1> flags;
  if (!ParseLowerHex(v.substr(3, 32), sc.trace_id) || IsAllZero(sc.trace_id) ||
      !ParseLowerHex(v.substr(36, 16), sc.span_id) || IsAllZero(sc.span_id) ||
      !ParseLowerHex(v.substr(53, 2), flags)) {
    return std::nullopt;
  }
  sc.trace_flags = version[0] == 0x00 ? flags[0] : (flags[0] & kTraceFlagSampled);
  sc.is_remote = true;
  return sc;
}

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' ||
         c == '/';
}
bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// 1..max_size characters: lcalpha (or a digit when allowed) then key chars.
bool IsKeyPart(std::string_view s, size_t max_size, bool allow_leading_digit) {
  if (s.empty() || s.size() > max_size) return false;
  if (!IsLcAlpha(s[0]) && !(allow_leading_digit && IsDigit(s[0]))) return false;
  for (char c : s.substr(1)) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

// key = simple-key / multi-tenant-key
// simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
// multi-tenant-key = tenant-id "@" system-id
// tenant-id = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
// system-id = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
bool IsValidKey(std::string_view key) {
  const size_t at = key.find('@');
  if (at == std::string_view::npos) return IsKeyPart(key, kMaxSimpleKeySize, false);
  return IsKeyPart(key.substr(0, at), kMaxTenantIdSize, true) &&
         IsKeyPart(key.substr(at + 1), kMaxSystemIdSize, false);
}

// value = 0*255(chr) nblk-chr
// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
// chr = %x20 / nblk-chr
bool IsValidValue(std::string_view value) {
  if (value.empty() || value.size() > kMaxValueSize || value.back() == ' ') return false;
  for (char c : value) {
    if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
  }
  return true;
}

// Returns the canonical tracestate, or nullopt when the header is invalid.
std::optional<std::string> ParseTraceState(std::string_view header) {
  std::string out;
  std::set<std::string_view> keys;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    const std::string_view member = TrimOws(header.substr(start, comma - start));
    start = comma + 1;
    if (member.empty()) continue;
    const size_t eq = member.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = member.substr(0, eq);
    if (!IsValidKey(key) || !IsValidValue(member.substr(eq + 1))) return std::nullopt;
    if (!keys.insert(key).second) return std::nullopt;  // duplicate key
    if (keys.size() > kMaxTraceStateMembers) return std::nullopt;
    if (!out.empty()) out.push_back(',');
    out.append(member);
  }
  return out;
}

class TraceContextPropagator final : public TextMapPropagator {
 public:
  void Inject(TextMapCarrier& carrier, const Context& context) const override {
    const SpanContext& sc = context.span_context();
    if (!sc.IsValid()) return;
    std::string tp = "00-";
    tp.reserve(kTraceParentSize);
    AppendHex(tp, sc.trace_id.data(), sc.trace_id.size());
    tp.push_back('-');
    AppendHex(tp, sc.span_id.data(), sc.span_id.size());
    tp.push_back('-');
    AppendHex(tp, &sc.trace_flags, 1);
    carrier.Set(kTraceParent, tp);
    if (!sc.trace_state.empty()) carrier.Set(kTraceState, sc.trace_state);
  }

  Context Extract(const TextMapCarrier& carrier, const Context& context) const override {
    const std::optional<std::string_view> tp = carrier.Get(kTraceParent);
    if (!tp) return context;
    std::optional<SpanContext> sc = ParseTraceParent(*tp);
    if (!sc) return context;
    if (const std::optional<std::string_view> ts = carrier.Get(kTraceState)) {
      if (std::optional<std::string> canonical = ParseTraceState(*ts)) {
        sc->trace_state = std::move(*canonical);
      }
    }
    return context.WithSpanContext(std::move(*sc));
  }

  std::vector<std::string> Fields() const override {
    return {std::string(kTraceParent), std::string(kTraceState)};
  }
};

}  // namespace

std::unique_ptr<TextMapPropagator> MakeTraceContextPropagator() {
  return std::make_unique<TraceContextPropagator>();
}

}  // namespace tracewire
