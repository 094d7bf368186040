#pragma once
// MapCarrier: a std::map-backed TextMapCarrier for propagator tests. Keys are
// compared exactly (case-sensitively), so tests can check that propagators
// find headers under the spellings they are meant to try. Set overwrites.
// Thread-compatible.

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tracewire/propagation.h"

namespace tracewire {

class MapCarrier final : public TextMapCarrier {
 public:
  MapCarrier() = default;
  MapCarrier(std::initializer_list<std::pair<const std::string, std::string>> headers)
      : headers_(headers) {}

  std::optional<std::string_view> Get(std::string_view key) const override {
    auto it = headers_.find(std::string(key));
    if (it == headers_.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  void Set(std::string_view key, std::string_view value) override {
    headers_[std::string(key)] = std::string(value);
  }
  std::vector<std::string> Keys() const override {
    std::vector<std::string> keys;
    keys.reserve(headers_.size());
    for (const auto& [k, v] : headers_) keys.push_back(k);
    return keys;
  }

  const std::map<std::string, std::string>& headers() const { return headers_; }

 private:
  std::map<std::string, std::string> headers_;
};

}  // namespace tracewire
