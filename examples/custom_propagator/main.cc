// Uses the example CustomPropagator next to W3C Trace Context: injects a span
// context into a header map, prints the headers, extracts them back and checks
// the round trip. Exits non-zero if it does not hold.

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "custom_propagator.h"
#include "tracewire/propagation.h"

namespace {

// A header map; keys are kept as given (this example writes lowercase).
class HeaderMap final : public tracewire::TextMapCarrier {
 public:
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
    for (const auto& [k, v] : headers_) keys.push_back(k);
    return keys;
  }
  const std::map<std::string, std::string>& headers() const { return headers_; }

 private:
  std::map<std::string, std::string> headers_;
};

}  // namespace

int main() {
  std::vector<std::unique_ptr<tracewire::TextMapPropagator>> list;
  list.push_back(std::make_unique<example::CustomPropagator>());
  list.push_back(tracewire::MakeTraceContextPropagator());
  std::unique_ptr<tracewire::TextMapPropagator> propagator =
      tracewire::MakeCompositePropagator(std::move(list));

  tracewire::SpanContext sc;
  for (size_t i = 0; i < sc.trace_id.size(); ++i) sc.trace_id[i] = static_cast<uint8_t>(0xa0 + i);
  for (size_t i = 0; i < sc.span_id.size(); ++i) sc.span_id[i] = static_cast<uint8_t>(0x10 + i);
  sc.trace_flags = tracewire::kTraceFlagSampled;
  const tracewire::Context outgoing = tracewire::Context().WithSpanContext(sc);

  HeaderMap headers;
  propagator->Inject(headers, outgoing);
  for (const auto& [k, v] : headers.headers()) std::printf("%s: %s\n", k.c_str(), v.c_str());

  // A legacy peer sends only the custom headers.
  HeaderMap legacy;
  legacy.Set("x-custom-trace-id", headers.Get("x-custom-trace-id").value_or(""));
  legacy.Set("x-custom-span-id", headers.Get("x-custom-span-id").value_or(""));
  const tracewire::Context incoming = propagator->Extract(legacy, tracewire::Context());

  tracewire::SpanContext expected = sc;
  expected.is_remote = true;
  if (incoming.span_context() != expected) {
    std::fprintf(stderr, "custom propagator round trip failed\n");
    return 1;
  }
  std::printf("extracted remote, sampled span context from the custom headers\n");
  return 0;
}
