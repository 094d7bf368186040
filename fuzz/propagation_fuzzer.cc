// Header parsing of each propagator: W3C traceparent and tracestate, W3C
// baggage, B3 single header and B3 multiple headers. Input: a selector byte,
// then "name:value" lines that become the carrier's headers.
//
// Invariants: Extract never crashes on any header; what it extracts injects
// into headers that extract to the same context, and injecting that context
// again gives the same headers (the propagator's output is a fixed point).

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "tracewire/context.h"
#include "tracewire/propagation.h"

using tracewire::fuzz::FuzzCheck;

namespace {

class MapCarrier : public tracewire::TextMapCarrier {
 public:
  std::optional<std::string_view> Get(std::string_view key) const override {
    auto it = headers.find(std::string(key));
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  void Set(std::string_view key, std::string_view value) override {
    headers[std::string(key)] = std::string(value);
  }
  std::vector<std::string> Keys() const override {
    std::vector<std::string> keys;
    for (const auto& [k, v] : headers) keys.push_back(k);
    return keys;
  }
  std::map<std::string, std::string> headers;
};

std::unique_ptr<tracewire::TextMapPropagator> Pick(uint8_t b) {
  switch (b % 4) {
    case 0:
      return tracewire::MakeTraceContextPropagator();
    case 1:
      return tracewire::MakeBaggagePropagator();
    case 2:
      return tracewire::MakeB3Propagator(/*single_header=*/true);
  }
  return tracewire::MakeB3Propagator(/*single_header=*/false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto propagator = Pick(data[0]);
  MapCarrier in;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    in.Set(line.substr(0, colon), line.substr(colon + 1));
  }
  const tracewire::Context first = propagator->Extract(in, tracewire::Context());

  MapCarrier out1;
  propagator->Inject(out1, first);
  const tracewire::Context second = propagator->Extract(out1, tracewire::Context());
  FuzzCheck(second.span_context() == first.span_context(), "span context survives inject+extract");
  FuzzCheck(second.baggage() == first.baggage(), "baggage survives inject+extract");
  MapCarrier out2;
  propagator->Inject(out2, second);
  FuzzCheck(out2.headers == out1.headers, "injected headers are a fixed point");
  return 0;
}
