#pragma once
// The process's global providers and propagator, so that a library can
// instrument itself without being handed them:
//
//   // in a library:
//   tracewire::Tracer* tracer = tracewire::GetTracerProvider()->GetTracer("mylib", "1.2");
//   // in main(), once:
//   auto sdk = tracewire::InitFromEnv();  // sets the globals
//
// Until the application sets them, the providers are no-op ones (their
// tracers, meters and loggers record nothing, cheaply) and the propagator is
// W3C Trace Context + Baggage. Set(nullptr) returns to the no-op provider.
//
// Lifetime: Get* returns a shared_ptr, so a provider lives as long as
// anyone holds it; a Tracer* (Meter*, Logger*) taken from a provider is
// valid as long as that provider. A library that keeps a Tracer* across a
// Set therefore goes on using the provider it took it from: take the
// provider again (Get* is cheap: an atomic load and a reference count) where that matters, as the
// gRPC instrumentation does per call.
//
// Thread safety: every function here may be called from any thread at once.

#include <memory>

#include "tracewire/export.h"
#include "tracewire/logs.h"
#include "tracewire/metrics.h"
#include "tracewire/propagation.h"
#include "tracewire/trace.h"

namespace tracewire {

TRACEWIRE_BEGIN_API

std::shared_ptr<TracerProvider> GetTracerProvider();  // never null
void SetTracerProvider(std::shared_ptr<TracerProvider> provider);

std::shared_ptr<MeterProvider> GetMeterProvider();  // never null
void SetMeterProvider(std::shared_ptr<MeterProvider> provider);

std::shared_ptr<LoggerProvider> GetLoggerProvider();  // never null
void SetLoggerProvider(std::shared_ptr<LoggerProvider> provider);

std::shared_ptr<const TextMapPropagator> GetTextMapPropagator();  // never null
void SetTextMapPropagator(std::shared_ptr<const TextMapPropagator> propagator);

TRACEWIRE_END_API

}  // namespace tracewire
