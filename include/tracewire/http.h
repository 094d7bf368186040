#pragma once
// Trace context over HTTP headers, and SERVER spans for HTTP handlers, so that
// an HTTP handler that calls a gRPC service (tracewire/grpc.h) yields one
// trace.
//
//   // A cpp-httplib server: the handler runs inside a SERVER span whose parent
//   // is the caller's context from the request headers.
//   server.Get("/users", tracewire::TraceHttpHandler("/users", handler, {.tracer_provider = p}));
//
//   // Any string map of headers (httplib::Headers, std::map, ...):
//   httplib::Headers headers;
//   tracewire::HttpHeadersCarrier carrier(headers);
//   propagator.Inject(carrier, tracewire::Context::Current());
//   client.Get("/users", headers);
//
// Nothing here needs cpp-httplib: TraceHttpHandler is a template that compiles
// against whatever request and response types the server passes (it reads
// `method`, `path` and `headers` from the request and `status` from the
// response, as httplib::Request and httplib::Response have them).
//
// Thread safety: an HttpHeadersCarrier is used by one thread at a time. The
// handler TraceHttpHandler returns may run on several threads at once, as the
// handler it wraps must.

#include <algorithm>
#include <cctype>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tracewire/context.h"
#include "tracewire/export.h"
#include "tracewire/propagation.h"
#include "tracewire/trace.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

// A carrier over any map of header names to values with string keys and
// values (std::map, std::unordered_map, std::multimap such as
// httplib::Headers). Get compares names case-insensitively; Set replaces
// every value of the name (as given, and any entry differing only in case).
template <class Headers>
class HttpHeadersCarrier final : public TextMapCarrier {
 public:
  explicit HttpHeadersCarrier(Headers& headers) : headers_(headers) {}
  std::optional<std::string_view> Get(std::string_view key) const override {
    for (const auto& [k, v] : headers_) {
      if (EqualsIgnoreCase(k, key)) return std::string_view(v);
    }
    return std::nullopt;
  }
  // Does nothing when Headers is const (a received request's headers).
  void Set(std::string_view key, std::string_view value) override {
    if constexpr (std::is_const_v<Headers>)
      return;
    else {
      for (auto it = headers_.begin(); it != headers_.end();) {
        it = EqualsIgnoreCase(it->first, key) ? headers_.erase(it) : std::next(it);
      }
      headers_.emplace(std::string(key), std::string(value));
    }
  }
  std::vector<std::string> Keys() const override {
    std::vector<std::string> keys;
    for (const auto& [k, v] : headers_) keys.emplace_back(k);
    return keys;
  }

 private:
  static bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  }
  Headers& headers_;
};

struct HttpInstrumentationOptions {
  // Null: the global TracerProvider (tracewire/global.h) at the time
  // TraceHttpHandler wraps the handler; set the SDK up first.
  TracerProvider* tracer_provider = nullptr;
  // Null: the global propagator (W3C Trace Context and Baggage unless the
  // application set another), per request.
  std::shared_ptr<const TextMapPropagator> propagator;
};

// The tracer and propagator the options resolve to (for TraceHttpHandler).
Tracer* HttpTracer(const HttpInstrumentationOptions& options);
std::shared_ptr<const TextMapPropagator> HttpPropagator(const HttpInstrumentationOptions& options);

// Wraps an HTTP handler `void(const Request&, Response&)`: the wrapper
// extracts the caller's context from the request headers, runs the handler
// inside a SERVER span named "METHOD route" (current while it runs, with the
// caller's baggage), and records http.request.method, url.path, http.route
// (`route` as given) and http.response.status_code; a status of 500 or more
// is an error.
template <class Handler>
auto TraceHttpHandler(std::string route, Handler handler, HttpInstrumentationOptions options = {}) {
  Tracer* tracer = HttpTracer(options);
  return [tracer, route = std::move(route), handler = std::move(handler),
          options = std::move(options)](const auto& request, auto& response) {
    HttpHeadersCarrier<const std::remove_cvref_t<decltype(request.headers)>> carrier(
        request.headers);
    Context parent = HttpPropagator(options)->Extract(carrier, Context::Current());
    StartSpanOptions o;
    o.kind = SpanKind::kServer;
    o.parent = parent;
    o.attributes.push_back({"http.request.method", std::string(request.method)});
    o.attributes.push_back({"url.path", std::string(request.path)});
    o.attributes.push_back({"http.route", route});
    Span span = tracer->StartSpan(std::string(request.method) + " " + route, o);
    {
      Context::Scope baggage_scope = parent.Attach();
      Context::Scope span_scope = span.MakeCurrent();
      handler(request, response);
    }
    span.SetAttribute("http.response.status_code", int64_t{response.status});
    if (response.status >= 500) span.SetStatus(StatusCode::kError);
    span.End();
  };
}

TRACEWIRE_END_API

}  // namespace tracewire
