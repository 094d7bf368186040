#include "tracewire/global.h"

#include <atomic>
#include <vector>

namespace tracewire {
namespace {

// A shared_ptr to a process-lifetime object that never deletes it.
template <typename T>
std::shared_ptr<T> Unowned(T* p) {
  return std::shared_ptr<T>(std::shared_ptr<T>(), p);
}

std::atomic<std::shared_ptr<TracerProvider>>& TracerProviderSlot() {
  static auto* slot =
      new std::atomic<std::shared_ptr<TracerProvider>>(Unowned(NoopTracerProvider()));
  return *slot;
}

std::atomic<std::shared_ptr<MeterProvider>>& MeterProviderSlot() {
  static auto* slot = new std::atomic<std::shared_ptr<MeterProvider>>(Unowned(NoopMeterProvider()));
  return *slot;
}

std::atomic<std::shared_ptr<LoggerProvider>>& LoggerProviderSlot() {
  static auto* slot =
      new std::atomic<std::shared_ptr<LoggerProvider>>(Unowned(NoopLoggerProvider()));
  return *slot;
}

const TextMapPropagator* DefaultPropagator() {
  static const TextMapPropagator* p = [] {
    std::vector<std::unique_ptr<TextMapPropagator>> parts;
    parts.push_back(MakeTraceContextPropagator());
    parts.push_back(MakeBaggagePropagator());
    return MakeCompositePropagator(std::move(parts)).release();
  }();
  return p;
}

std::atomic<std::shared_ptr<const TextMapPropagator>>& PropagatorSlot() {
  static auto* slot =
      new std::atomic<std::shared_ptr<const TextMapPropagator>>(Unowned(DefaultPropagator()));
  return *slot;
}

}  // namespace

std::shared_ptr<TracerProvider> GetTracerProvider() {
  return TracerProviderSlot().load(std::memory_order_acquire);
}

void SetTracerProvider(std::shared_ptr<TracerProvider> provider) {
  if (!provider) provider = Unowned(NoopTracerProvider());
  TracerProviderSlot().store(std::move(provider), std::memory_order_release);
}

std::shared_ptr<MeterProvider> GetMeterProvider() {
  return MeterProviderSlot().load(std::memory_order_acquire);
}

void SetMeterProvider(std::shared_ptr<MeterProvider> provider) {
  if (!provider) provider = Unowned(NoopMeterProvider());
  MeterProviderSlot().store(std::move(provider), std::memory_order_release);
}

std::shared_ptr<LoggerProvider> GetLoggerProvider() {
  return LoggerProviderSlot().load(std::memory_order_acquire);
}

void SetLoggerProvider(std::shared_ptr<LoggerProvider> provider) {
  if (!provider) provider = Unowned(NoopLoggerProvider());
  LoggerProviderSlot().store(std::move(provider), std::memory_order_release);
}

std::shared_ptr<const TextMapPropagator> GetTextMapPropagator() {
  return PropagatorSlot().load(std::memory_order_acquire);
}

void SetTextMapPropagator(std::shared_ptr<const TextMapPropagator> propagator) {
  if (!propagator) propagator = Unowned(DefaultPropagator());
  PropagatorSlot().store(std::move(propagator), std::memory_order_release);
}

}  // namespace tracewire
