#pragma once
// Baggage: name/value pairs propagated with a request (W3C Baggage), each
// with optional metadata (the properties after ';'). Immutable value type:
// Set and Remove return a new Baggage.
//
// Thread safety: a value type; const methods only read, so a Baggage may be
// read from any threads at once (thread-compatible).

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tracewire/export.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

class Baggage {
 public:
  struct Entry {
    std::string value;
    std::string metadata;  // raw properties, e.g. "ttl=30;public"
    bool operator==(const Entry&) const = default;
  };

  std::optional<std::string> Get(std::string_view name) const {
    auto it = entries_.find(std::string(name));
    if (it == entries_.end()) return std::nullopt;
    return it->second.value;
  }
  Baggage Set(std::string_view name, std::string_view value, std::string_view metadata = {}) const {
    Baggage b = *this;
    b.entries_[std::string(name)] = Entry{std::string(value), std::string(metadata)};
    return b;
  }
  Baggage Remove(std::string_view name) const {
    Baggage b = *this;
    b.entries_.erase(std::string(name));
    return b;
  }
  const std::map<std::string, Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  bool operator==(const Baggage&) const = default;

 private:
  std::map<std::string, Entry> entries_;
};

TRACEWIRE_END_API

}  // namespace tracewire
