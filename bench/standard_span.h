#pragma once
// The standard span of shared/bench/WORKLOAD.md, made through the tracing
// API: shared by the sdk micro benchmark and tracewire-bench.

#include "tracewire/trace.h"

namespace tracewire::bench {

inline void EmitStandardSpan(Tracer* tracer) {
  Span span = tracer->StartSpan("GET /api/users", SpanKind::kServer);
  span.SetAttribute("http.method", "GET");
  span.SetAttribute("http.route", "/api/users");
  span.SetAttribute("http.target", "/api/users?id=42");
  span.SetAttribute("net.peer.name", "10.0.0.1");
  span.SetAttribute("http.status_code", int64_t{200});
  span.SetAttribute("http.response_content_length", int64_t{1234});
  span.SetAttribute("duration_ratio", 0.75);
  span.SetAttribute("cache.hit", true);
  span.AddEvent("cache lookup", {{"cache.key", "user:42"}});
  span.SetStatus(StatusCode::kOk);
  span.End();
}

}  // namespace tracewire::bench
