#include "store/otlp_items.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "wire/proto_reader.h"

namespace tracewire::store {
namespace {

using wire::Field;
using wire::ProtoReader;
using wire::WireType;

double AsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned char>(c));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void RenderAnyValueTo(std::string_view any, bool quote, int depth, std::string* out);

void RenderKvListTo(std::string_view list, int depth, std::string* out) {
  out->push_back('{');
  ProtoReader r(list);
  Field f;
  bool first = true;
  while (r.Next(&f)) {
    if (f.number != 1 || f.type != WireType::kLen) continue;
    ProtoReader kv(f.bytes);
    Field g;
    std::string_view key, value;
    while (kv.Next(&g)) {
      if (g.type != WireType::kLen) continue;
      if (g.number == 1) key = g.bytes;
      if (g.number == 2) value = g.bytes;
    }
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(key, out);
    out->push_back(':');
    RenderAnyValueTo(value, true, depth + 1, out);
  }
  out->push_back('}');
}

void RenderAnyValueTo(std::string_view any, bool quote, int depth, std::string* out) {
  if (depth > 32) {
    out->append("...");
    return;
  }
  ProtoReader r(any);
  Field f;
  bool any_field = false;
  while (r.Next(&f)) {
    any_field = true;
    switch (f.number) {
      case 1:
        if (quote) {
          AppendJsonString(f.bytes, out);
        } else {
          out->append(f.bytes);
        }
        return;
      case 2:
        out->append(f.value ? "true" : "false");
        return;
      case 3:
        absl::StrAppend(out, static_cast<int64_t>(f.value));
        return;
      case 4: {
        // The shortest text that reads back as the same double (absl's
        // StrAppend keeps 6 digits: 0.30000000000000004 became "0.3").
        const double d = AsDouble(f.value);
        if (std::isnan(d) || std::isinf(d)) {  // as OTLP/JSON spells them
          const char* name = std::isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
          if (quote) {
            AppendJsonString(name, out);
          } else {
            out->append(name);
          }
        } else {
          char buf[32];
          const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, d);
          out->append(buf, r.ptr);
        }
        return;
      }
      case 5: {
        out->push_back('[');
        ProtoReader a(f.bytes);
        Field g;
        bool first = true;
        while (a.Next(&g)) {
          if (g.number != 1 || g.type != WireType::kLen) continue;
          if (!first) out->push_back(',');
          first = false;
          RenderAnyValueTo(g.bytes, true, depth + 1, out);
        }
        out->push_back(']');
        return;
      }
      case 6:
        RenderKvListTo(f.bytes, depth, out);
        return;
      case 7:
        // Hex; quoted inside an array or a map, which are JSON.
        if (quote) out->push_back('"');
        out->append(ToHex(f.bytes));
        if (quote) out->push_back('"');
        return;
      default:
        break;
    }
  }
  if (!any_field && quote) out->append("null");
}

uint64_t Fixed(const Field& f) { return f.value; }

}  // namespace

std::string RenderAnyValue(std::string_view any_value) {
  std::string out;
  RenderAnyValueTo(any_value, false, 0, &out);
  return out;
}

void AppendKeyValue(std::string_view kv, Attributes* out) {
  ProtoReader r(kv);
  Field f;
  std::string key, value;
  while (r.Next(&f)) {
    if (f.type != WireType::kLen) continue;
    if (f.number == 1) key = std::string(f.bytes);
    if (f.number == 2) value = RenderAnyValue(f.bytes);
  }
  out->emplace_back(std::move(key), std::move(value));
}

ResourceInfo DecodeResource(std::string_view raw) {
  ResourceInfo info;
  ProtoReader r(raw);
  Field f;
  while (r.Next(&f)) {
    if (f.number == 1 && f.type == WireType::kLen) AppendKeyValue(f.bytes, &info.attributes);
  }
  for (const auto& [k, v] : info.attributes) {
    if (k == "service.name") info.service = v;
  }
  if (info.service.empty()) info.service = "unknown_service";
  return info;
}

ScopeInfo DecodeScope(std::string_view raw) {
  ScopeInfo info;
  ProtoReader r(raw);
  Field f;
  while (r.Next(&f)) {
    if (f.type != WireType::kLen) continue;
    if (f.number == 1) info.name = std::string(f.bytes);
    if (f.number == 2) info.version = std::string(f.bytes);
    if (f.number == 3) AppendKeyValue(f.bytes, &info.attributes);
  }
  return info;
}

SpanInfo DecodeSpan(std::string_view raw) {
  SpanInfo s;
  ProtoReader r(raw);
  Field f;
  while (r.Next(&f)) {
    const bool len = f.type == WireType::kLen;
    switch (f.number) {
      case 1:
        if (len) s.trace_id = std::string(f.bytes);
        break;
      case 2:
        if (len) s.span_id = std::string(f.bytes);
        break;
      case 3:
        if (len) s.trace_state = std::string(f.bytes);
        break;
      case 4:
        if (len) s.parent_span_id = std::string(f.bytes);
        break;
      case 5:
        if (len) s.name = std::string(f.bytes);
        break;
      case 6:
        s.kind = static_cast<uint32_t>(f.value);
        break;
      case 7:
        s.start_time_unix_nano = Fixed(f);
        break;
      case 8:
        s.end_time_unix_nano = Fixed(f);
        break;
      case 9:
        if (len) AppendKeyValue(f.bytes, &s.attributes);
        break;
      case 11: {
        if (!len) break;
        SpanEventInfo e;
        ProtoReader er(f.bytes);
        Field g;
        while (er.Next(&g)) {
          if (g.number == 1) e.time_unix_nano = g.value;
          if (g.number == 2 && g.type == WireType::kLen) e.name = std::string(g.bytes);
          if (g.number == 3 && g.type == WireType::kLen) AppendKeyValue(g.bytes, &e.attributes);
        }
        s.events.push_back(std::move(e));
        break;
      }
      case 13: {
        if (!len) break;
        SpanLinkInfo l;
        ProtoReader lr(f.bytes);
        Field g;
        while (lr.Next(&g)) {
          if (g.type != WireType::kLen) continue;
          if (g.number == 1) l.trace_id = std::string(g.bytes);
          if (g.number == 2) l.span_id = std::string(g.bytes);
          if (g.number == 3) l.trace_state = std::string(g.bytes);
          if (g.number == 4) AppendKeyValue(g.bytes, &l.attributes);
        }
        s.links.push_back(std::move(l));
        break;
      }
      case 15: {
        if (!len) break;
        ProtoReader sr(f.bytes);
        Field g;
        while (sr.Next(&g)) {
          if (g.number == 2 && g.type == WireType::kLen) s.status_message = std::string(g.bytes);
          if (g.number == 3) s.status_code = static_cast<uint32_t>(g.value);
        }
        break;
      }
      case 16:
        s.flags = static_cast<uint32_t>(f.value);
        break;
      default:
        break;
    }
  }
  return s;
}

LogInfo DecodeLogRecord(std::string_view raw) {
  LogInfo l;
  ProtoReader r(raw);
  Field f;
  while (r.Next(&f)) {
    const bool len = f.type == WireType::kLen;
    switch (f.number) {
      case 1:
        l.time_unix_nano = f.value;
        break;
      case 11:
        l.observed_time_unix_nano = f.value;
        break;
      case 2:
        l.severity_number = static_cast<uint32_t>(f.value);
        break;
      case 3:
        if (len) l.severity_text = std::string(f.bytes);
        break;
      case 5:
        if (len) l.body = RenderAnyValue(f.bytes);
        break;
      case 6:
        if (len) AppendKeyValue(f.bytes, &l.attributes);
        break;
      case 8:
        l.flags = static_cast<uint32_t>(f.value);
        break;
      case 9:
        if (len) l.trace_id = std::string(f.bytes);
        break;
      case 10:
        if (len) l.span_id = std::string(f.bytes);
        break;
      case 12:
        if (len) l.event_name = std::string(f.bytes);
        break;
      default:
        break;
    }
  }
  return l;
}

PointInfo DecodePoint(uint32_t data_field, std::string_view raw) {
  PointInfo p;
  const uint32_t attrs_field = data_field == 9 ? 9 : data_field == 10 ? 1 : 7;
  ProtoReader r(raw);
  Field f;
  while (r.Next(&f)) {
    if (f.number == attrs_field && f.type == WireType::kLen) {
      AppendKeyValue(f.bytes, &p.attributes);
      continue;
    }
    switch (f.number) {
      case 2:
        p.start_time_unix_nano = f.value;
        break;
      case 3:
        p.time_unix_nano = f.value;
        break;
      case 4:
        if (data_field == 5 || data_field == 7) {
          p.value = AsDouble(f.value);
          p.has_value = true;
        } else {
          p.count = f.value;
        }
        break;
      case 5:
        if (data_field != 5 && data_field != 7 && f.type == WireType::kFixed64) {
          p.value = AsDouble(f.value);
          p.has_value = true;
        }
        break;
      case 6:
        if (data_field == 5 || data_field == 7) {
          p.value = static_cast<double>(static_cast<int64_t>(f.value));
          p.has_value = true;
        }
        break;
      default:
        break;
    }
  }
  return p;
}

MetricInfo DecodeMetric(std::string_view raw) {
  MetricInfo m;
  ProtoReader r(raw);
  Field f;
  while (r.Next(&f)) {
    if (f.type != WireType::kLen) continue;
    switch (f.number) {
      case 1:
        m.name = std::string(f.bytes);
        break;
      case 2:
        m.description = std::string(f.bytes);
        break;
      case 3:
        m.unit = std::string(f.bytes);
        break;
      case 5:
      case 7:
      case 9:
      case 10:
      case 11: {
        m.data_field = f.number;
        ProtoReader d(f.bytes);
        Field g;
        while (d.Next(&g)) {
          if (g.number == 1 && g.type == WireType::kLen) m.points.push_back(g.bytes);
          if (g.number == 2 && g.type == WireType::kVarint) {
            m.temporality = static_cast<uint32_t>(g.value);
          }
          if (g.number == 3 && f.number == 7) m.monotonic = g.value != 0;
        }
        break;
      }
      default:
        break;
    }
  }
  return m;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

bool FromHex(std::string_view hex, std::string* bytes) {
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bytes->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

const char* SpanKindName(uint32_t kind) {
  switch (kind) {
    case 1:
      return "internal";
    case 2:
      return "server";
    case 3:
      return "client";
    case 4:
      return "producer";
    case 5:
      return "consumer";
    default:
      return "unspecified";
  }
}

const char* MetricTypeName(uint32_t data_field) {
  switch (data_field) {
    case 5:
      return "gauge";
    case 7:
      return "sum";
    case 9:
      return "histogram";
    case 10:
      return "exponential_histogram";
    case 11:
      return "summary";
    default:
      return "unknown";
  }
}

namespace {
constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}
uint64_t HashPart(uint64_t h, std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ Mix(w)) * kMul;
    h = (h << 29) | (h >> 35);
  }
  uint64_t tail = 0;
  if (s.size() > i) std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ Mix(tail ^ (static_cast<uint64_t>(s.size()) << 56))) * kMul;
  return h;
}
}  // namespace

uint64_t StableHash(std::string_view a, std::string_view b, std::string_view c) {
  uint64_t h = 0x243F6A8885A308D3ull;
  h = HashPart(h, a);
  h = HashPart(h, b);
  h = HashPart(h, c);
  return Mix(h);
}

}  // namespace tracewire::store
