#pragma once
// Attribute hashing and comparison for metric series: a set's hash does not
// depend on the order of its attributes (a sum of per-attribute hashes), so
// an initializer list, a prebuilt AttributeSet and the series' sorted copy
// hash alike. Values compare by type and bits (a double NaN equals itself).
// A key filter (a view's attribute-key allow list) leaves out the keys it
// does not hold, from the hash and the comparison alike.
//
// Pure functions: thread-safe.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tracewire/telemetry_data.h"
#include "tracewire/trace.h"

namespace tracewire::sdk {

// Sorted keys to keep; null: keep all.
using KeyFilter = const std::vector<std::string>*;

bool KeepKey(KeyFilter filter, std::string_view key);
uint64_t HashAttribute(const AttributeView& a);
uint64_t HashAttribute(const KeyValue& kv);
// The set hash of the attributes the filter keeps.
uint64_t HashAttributes(std::span<const AttributeView> attrs, KeyFilter filter);
uint64_t HashAttributes(const Attributes& attrs, KeyFilter filter);
// `sorted` is a series' attribute list (sorted by key, no duplicates, already
// filtered). True when the kept attributes of `attrs` are exactly `sorted`.
bool SameAttributes(std::span<const AttributeView> attrs, KeyFilter filter,
                    const Attributes& sorted);
bool SameAttributes(const Attributes& attrs, KeyFilter filter, const Attributes& sorted);
// The kept attributes, sorted by key, the last value of a duplicated key
// winning.
Attributes Normalize(std::span<const AttributeView> attrs, KeyFilter filter);
Attributes Normalize(const Attributes& attrs, KeyFilter filter);
KeyValue ToKeyValue(const AttributeView& a);

}  // namespace tracewire::sdk
