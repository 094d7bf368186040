#include "wire/otlp_split.h"

#include "wire/proto_reader.h"
#include "wire/proto_writer.h"

namespace tracewire::wire {
namespace {

// Tag and length prefix of a length-delimited field: at most 1 + 5 bytes here.
constexpr size_t kPrefix = 6;

struct Container {
  std::string header;  // raw fields other than the child list, tags included
};

struct Item {
  int resource;
  int scope;
  std::string_view raw;  // the whole field, tag and length included
  int64_t count;
};

struct Layout {
  std::vector<Container> resources;
  std::vector<Container> scopes;
  std::vector<Item> items;
};

bool Parse(Signal signal, std::string_view bytes, Layout* out) {
  ProtoReader req(bytes);
  Field rf;
  while (req.Next(&rf)) {
    if (rf.number != 1 || rf.type != WireType::kLen) continue;  // unknown: dropped
    const int ri = static_cast<int>(out->resources.size());
    out->resources.emplace_back();
    ProtoReader res(rf.bytes);
    Field sf;
    while (res.Next(&sf)) {
      if (sf.number != 2 || sf.type != WireType::kLen) {
        out->resources[ri].header.append(sf.begin, sf.end - sf.begin);
        continue;
      }
      const int si = static_cast<int>(out->scopes.size());
      out->scopes.emplace_back();
      ProtoReader scope(sf.bytes);
      Field itf;
      while (scope.Next(&itf)) {
        if (itf.number != 2 || itf.type != WireType::kLen) {
          out->scopes[si].header.append(itf.begin, itf.end - itf.begin);
          continue;
        }
        const int64_t count = signal == Signal::kMetrics ? MetricDataPoints(itf.bytes) : 1;
        out->items.push_back({ri, si, std::string_view(itf.begin, itf.end - itf.begin), count});
      }
      if (!scope.ok()) return false;
    }
    if (!res.ok()) return false;
  }
  return req.ok();
}

// Writes items [a, b) as one request.
RequestPart Emit(const Layout& l, size_t a, size_t b) {
  RequestPart part;
  std::string resource_body, scope_body;
  size_t i = a;
  while (i < b) {
    const int ri = l.items[i].resource;
    resource_body = l.resources[ri].header;
    while (i < b && l.items[i].resource == ri) {
      const int si = l.items[i].scope;
      scope_body = l.scopes[si].header;
      while (i < b && l.items[i].scope == si) {
        scope_body.append(l.items[i].raw);
        part.items += l.items[i].count;
        ++part.units;
        ++i;
      }
      AppendLenField(&resource_body, 2, scope_body);
    }
    AppendLenField(&part.bytes, 1, resource_body);
  }
  return part;
}

absl::Status NotARequest(Signal s) {
  return absl::InvalidArgumentError(
      std::string("cannot split: not a valid ") + SignalName(s) + " export request");
}

}  // namespace

int64_t MetricDataPoints(std::string_view metric) {
  ProtoReader r(metric);
  Field f;
  int64_t n = 0;
  uint32_t current = 0;
  while (r.Next(&f)) {
    if (f.type != WireType::kLen) continue;
    if (f.number == 5 || f.number == 7 || f.number == 9 || f.number == 10 || f.number == 11) {
      // oneof: another data field replaces the previous one; the same field
      // again merges with it (libprotobuf's semantics), so its points add up.
      if (f.number != current) n = 0;
      current = f.number;
      ProtoReader dr(f.bytes);
      Field df;
      while (dr.Next(&df)) {
        if (df.number == 1 && df.type == WireType::kLen) ++n;
      }
    }
  }
  return n;
}

absl::StatusOr<RequestPart> CountRequestItems(Signal signal, std::string_view bytes) {
  RequestPart part;
  ProtoReader req(bytes);
  Field rf;
  while (req.Next(&rf)) {
    if (rf.number != 1 || rf.type != WireType::kLen) continue;
    ProtoReader res(rf.bytes);
    Field sf;
    while (res.Next(&sf)) {
      if (sf.number != 2 || sf.type != WireType::kLen) continue;
      ProtoReader scope(sf.bytes);
      Field itf;
      while (scope.Next(&itf)) {
        if (itf.number != 2 || itf.type != WireType::kLen) continue;
        ++part.units;
        part.items += signal == Signal::kMetrics ? MetricDataPoints(itf.bytes) : 1;
      }
      if (!scope.ok()) return NotARequest(signal);
    }
    if (!res.ok()) return NotARequest(signal);
  }
  if (!req.ok()) return NotARequest(signal);
  return part;
}

absl::StatusOr<std::vector<RequestPart>> SplitRequest(Signal signal, std::string_view bytes,
                                                      size_t max_bytes) {
  Layout l;
  if (!Parse(signal, bytes, &l)) return NotARequest(signal);
  std::vector<RequestPart> parts;
  if (l.items.empty()) return parts;
  size_t start = 0;
  size_t estimate = 0;  // an upper bound of the current part's size
  int last_resource = -1, last_scope = -1;
  for (size_t i = 0; i < l.items.size(); ++i) {
    const Item& it = l.items[i];
    size_t add = it.raw.size();
    if (it.resource != last_resource || i == start) {
      add += l.resources[it.resource].header.size() + kPrefix;
    }
    if (it.scope != last_scope || i == start) add += l.scopes[it.scope].header.size() + kPrefix;
    if (i > start && estimate + add > max_bytes) {
      parts.push_back(Emit(l, start, i));
      start = i;
      add = it.raw.size() + l.resources[it.resource].header.size() +
            l.scopes[it.scope].header.size() + 2 * kPrefix;
      estimate = 0;
    }
    estimate += add;
    last_resource = it.resource;
    last_scope = it.scope;
  }
  parts.push_back(Emit(l, start, l.items.size()));
  return parts;
}

absl::StatusOr<std::vector<RequestPart>> SplitInHalves(Signal signal, std::string_view bytes) {
  Layout l;
  if (!Parse(signal, bytes, &l)) return NotARequest(signal);
  std::vector<RequestPart> parts;
  if (l.items.empty()) return parts;
  if (l.items.size() == 1) {
    parts.push_back(Emit(l, 0, 1));
    return parts;
  }
  const size_t mid = l.items.size() / 2;
  parts.push_back(Emit(l, 0, mid));
  parts.push_back(Emit(l, mid, l.items.size()));
  return parts;
}

}  // namespace tracewire::wire
