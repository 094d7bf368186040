#include "sdk/metrics/attributes.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>

#include "tracewire/metrics.h"

namespace tracewire::sdk {
namespace {

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}
// A short-string hash: 8 bytes at a time, multiply and fold (attribute keys
// and values are mostly under 32 bytes; absl::Hash cost twice as much here).
inline uint64_t HashStr(std::string_view s) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (s.size() * 0xff51afd7ed558ccdULL);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  // The tail without a variable-length copy (whose store the following
  // load cannot forward from): overlapping fixed-size loads.
  uint64_t w = 0;
  if (s.size() >= 8 && n > 0) {
    std::memcpy(&w, s.data() + s.size() - 8, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    w = (uint64_t{a} << 32) | b;
  } else if (n > 0) {
    w = (uint64_t{static_cast<uint8_t>(p[0])} << 16) |
        (uint64_t{static_cast<uint8_t>(p[n / 2])} << 8) | static_cast<uint8_t>(p[n - 1]);
  }
  h = (h ^ w) * 0x94d049bb133111ebULL;
  h ^= h >> 29;
  return h;
}
inline uint64_t Combine(uint64_t key_hash, uint64_t type, uint64_t value_hash) {
  return Mix(key_hash * 0x9e3779b97f4a7c15ULL + type * 0x632be59bd9b4e019ULL + value_hash);
}

uint64_t HashAnyValue(const AnyValue& v, uint64_t* type) {
  switch (v.value.index()) {
    case 1:
      *type = 1;
      return HashStr(std::get<std::string>(v.value));
    case 2:
      *type = 2;
      return std::get<bool>(v.value) ? 1 : 0;
    case 3:
      *type = 3;
      return Mix(static_cast<uint64_t>(std::get<int64_t>(v.value)));
    case 4:
      *type = 4;
      return Mix(std::bit_cast<uint64_t>(std::get<double>(v.value)));
    default: {
      // Arrays, maps, bytes: rare in metric attributes; hashed by index only,
      // compared in full.
      *type = 10 + v.value.index();
      return 0;
    }
  }
}

bool SameValue(const AttributeView& a, const AnyValue& v) {
  switch (a.type()) {
    case AttributeView::Type::kString: {
      const auto* s = std::get_if<std::string>(&v.value);
      return s != nullptr && *s == a.string_value();
    }
    case AttributeView::Type::kBool: {
      const auto* b = std::get_if<bool>(&v.value);
      return b != nullptr && *b == a.bool_value();
    }
    case AttributeView::Type::kInt: {
      const auto* i = std::get_if<int64_t>(&v.value);
      return i != nullptr && *i == a.int_value();
    }
    case AttributeView::Type::kDouble: {
      const auto* d = std::get_if<double>(&v.value);
      return d != nullptr &&
             std::bit_cast<uint64_t>(*d) == std::bit_cast<uint64_t>(a.double_value());
    }
  }
  return false;
}

bool SameAnyValue(const AnyValue& a, const AnyValue& b) {
  const auto* x = std::get_if<double>(&a.value);
  const auto* y = std::get_if<double>(&b.value);
  if (x != nullptr && y != nullptr)
    return std::bit_cast<uint64_t>(*x) == std::bit_cast<uint64_t>(*y);
  return a == b;
}

const KeyValue* Find(const Attributes& sorted, std::string_view key) {
  for (const KeyValue& kv : sorted) {  // series hold a handful of attributes
    if (kv.key == key) return &kv;
  }
  return nullptr;
}

}  // namespace

bool KeepKey(KeyFilter filter, std::string_view key) {
  if (filter == nullptr) return true;
  return std::binary_search(filter->begin(), filter->end(), key, [](const auto& a, const auto& b) {
    return std::string_view(a) < std::string_view(b);
  });
}

uint64_t HashAttribute(const AttributeView& a) {
  uint64_t vh = 0;
  uint64_t type = 0;
  switch (a.type()) {
    case AttributeView::Type::kString:
      type = 1;
      vh = HashStr(a.string_value());
      break;
    case AttributeView::Type::kBool:
      type = 2;
      vh = a.bool_value() ? 1 : 0;
      break;
    case AttributeView::Type::kInt:
      type = 3;
      vh = Mix(static_cast<uint64_t>(a.int_value()));
      break;
    case AttributeView::Type::kDouble:
      type = 4;
      vh = Mix(std::bit_cast<uint64_t>(a.double_value()));
      break;
  }
  return Combine(HashStr(a.key()), type, vh);
}

uint64_t HashAttribute(const KeyValue& kv) {
  uint64_t type = 0;
  const uint64_t vh = HashAnyValue(kv.value, &type);
  return Combine(HashStr(kv.key), type, vh);
}

uint64_t HashAttributes(std::span<const AttributeView> attrs, KeyFilter filter) {
  uint64_t h = 0x51ed270b27c3a5e1ULL;
  for (const AttributeView& a : attrs) {
    if (KeepKey(filter, a.key())) h += HashAttribute(a);
  }
  return h;
}

uint64_t HashAttributes(const Attributes& attrs, KeyFilter filter) {
  uint64_t h = 0x51ed270b27c3a5e1ULL;
  for (const KeyValue& kv : attrs) {
    if (KeepKey(filter, kv.key)) h += HashAttribute(kv);
  }
  return h;
}

bool SameAttributes(std::span<const AttributeView> attrs, KeyFilter filter,
                    const Attributes& sorted) {
  size_t n = 0;
  for (const AttributeView& a : attrs) {
    if (!KeepKey(filter, a.key())) continue;
    const KeyValue* kv = Find(sorted, a.key());
    if (kv == nullptr || !SameValue(a, kv->value)) return false;
    ++n;
  }
  return n == sorted.size();  // a duplicated key makes n larger: no match, slow path
}

bool SameAttributes(const Attributes& attrs, KeyFilter filter, const Attributes& sorted) {
  size_t n = 0;
  for (const KeyValue& a : attrs) {
    if (!KeepKey(filter, a.key)) continue;
    const KeyValue* kv = Find(sorted, a.key);
    if (kv == nullptr || !SameAnyValue(a.value, kv->value)) return false;
    ++n;
  }
  return n == sorted.size();
}

KeyValue ToKeyValue(const AttributeView& a) {
  switch (a.type()) {
    case AttributeView::Type::kString:
      return {std::string(a.key()), AnyValue(std::string(a.string_value()))};
    case AttributeView::Type::kBool:
      return {std::string(a.key()), AnyValue(a.bool_value())};
    case AttributeView::Type::kInt:
      return {std::string(a.key()), AnyValue(a.int_value())};
    case AttributeView::Type::kDouble:
      return {std::string(a.key()), AnyValue(a.double_value())};
  }
  return {};
}

Attributes Normalize(const Attributes& attrs, KeyFilter filter) {
  Attributes out;
  out.reserve(attrs.size());
  for (const KeyValue& kv : attrs) {
    if (!KeepKey(filter, kv.key)) continue;
    bool replaced = false;
    for (KeyValue& o : out) {
      if (o.key == kv.key) {
        o.value = kv.value;
        replaced = true;
      }
    }
    if (!replaced) out.push_back(kv);
  }
  std::sort(out.begin(), out.end(),
            [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
  return out;
}

Attributes Normalize(std::span<const AttributeView> attrs, KeyFilter filter) {
  Attributes all;
  all.reserve(attrs.size());
  for (const AttributeView& a : attrs) all.push_back(ToKeyValue(a));
  return Normalize(all, filter);
}

}  // namespace tracewire::sdk

namespace tracewire {
namespace {
std::atomic<uint64_t> next_attribute_set_id{1};  // a counter: relaxed
}  // namespace

AttributeSet::AttributeSet() : hash_(sdk::HashAttributes(Attributes{}, nullptr)) {}

AttributeSet::AttributeSet(std::initializer_list<AttributeView> attributes)
    : AttributeSet(sdk::Normalize(
          std::span<const AttributeView>(attributes.begin(), attributes.size()), nullptr)) {}

AttributeSet::AttributeSet(Attributes attributes)
    : attributes_(sdk::Normalize(attributes, nullptr)),
      hash_(sdk::HashAttributes(attributes_, nullptr)),
      id_(next_attribute_set_id.fetch_add(1, std::memory_order_relaxed)) {}

}  // namespace tracewire
