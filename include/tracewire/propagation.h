#pragma once
// Context propagation across process boundaries through text maps (HTTP
// headers, gRPC metadata): the W3C Trace Context and Baggage formats, B3
// (single and multi header), a composite of several, and a factory from
// OTEL_PROPAGATORS.
//
// Thread safety: propagators are immutable after construction: thread-safe.
// A TextMapCarrier is used by one thread at a time (the one injecting into or
// extracting from it); implementations need not be thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tracewire/context.h"
#include "tracewire/export.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

// Read and write access to a carrier's headers. Keys are compared
// case-insensitively by implementations where the transport requires it
// (HTTP, gRPC metadata keys are lowercase).
class TextMapCarrier {
 public:
  virtual ~TextMapCarrier() = default;
  virtual std::optional<std::string_view> Get(std::string_view key) const = 0;
  virtual void Set(std::string_view key, std::string_view value) = 0;
  virtual std::vector<std::string> Keys() const = 0;
};

class TextMapPropagator {
 public:
  virtual ~TextMapPropagator() = default;
  // Writes the context's fields into the carrier. The carrier comes first, as
  // in Extract: the specification lists the context first (Inject(Context,
  // carrier)); we follow opentelemetry-cpp's order, (carrier, context), so
  // that Inject and Extract read alike.
  virtual void Inject(TextMapCarrier& carrier, const Context& context) const = 0;
  // Returns `context` updated with what the carrier holds; invalid or missing
  // headers leave it unchanged.
  virtual Context Extract(const TextMapCarrier& carrier, const Context& context) const = 0;
  // The header names this propagator reads and writes.
  virtual std::vector<std::string> Fields() const = 0;
};

std::unique_ptr<TextMapPropagator> MakeTraceContextPropagator();          // traceparent, tracestate
std::unique_ptr<TextMapPropagator> MakeBaggagePropagator();               // baggage
std::unique_ptr<TextMapPropagator> MakeB3Propagator(bool single_header);  // b3 / X-B3-*
// Injects with every propagator in order; extracts with each in order, each
// seeing the result of the previous.
std::unique_ptr<TextMapPropagator> MakeCompositePropagator(
    std::vector<std::unique_ptr<TextMapPropagator>> propagators);
// From an OTEL_PROPAGATORS value ("tracecontext,baggage" when empty):
// tracecontext, baggage, b3 (single), b3multi, none. Unknown names are
// InvalidArgument naming the value.
absl::StatusOr<std::unique_ptr<TextMapPropagator>> MakePropagatorsFromEnvValue(
    std::string_view value);

TRACEWIRE_END_API

}  // namespace tracewire
