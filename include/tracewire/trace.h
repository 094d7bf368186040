#pragma once
// The tracing API and SDK: TracerProvider -> Tracer -> Span.
//
//   auto provider = tracewire::TracerProvider::Create(options);
//   tracewire::Tracer* tracer = (*provider)->GetTracer("my.library", "1.0");
//   tracewire::Span span = tracer->StartSpan("GET /users", {.kind = SpanKind::kServer});
//   span.SetAttribute("http.route", "/users");
//   span.End();
//
// Instrumented code that runs inside a span (made current by ScopedSpan or
// Span::MakeCurrent) reaches it through CurrentSpan():
//
//   tracewire::CurrentSpan().SetAttribute("cache.hit", true);
//
// Processors are in span_processor.h, exporters in span_exporter.h, id
// generators in id_generator.h; this header includes the first and the last,
// which TracerProviderOptions holds.
//
// Thread safety: TracerProvider and Tracer are thread-safe. A Span is
// thread-compatible: one thread at a time may use it (hand it over with
// std::move). Ending a span takes no lock: it hands the span to the
// processors, which in the batch processor is a lock-free queue push.
// A SpanRef is thread-compatible, like a shared_ptr: copies of one span's
// SpanRef may be used and released on different threads at once, and data()
// decodes once whichever threads call it. A SpanHandle (CurrentSpan()) is
// usable only on the thread that got it, while the span's scope is active.
// NoopTracer() is thread-safe.

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracewire/context.h"
#include "tracewire/export.h"
#include "tracewire/id_generator.h"
#include "tracewire/sampler.h"
#include "tracewire/span_processor.h"
#include "tracewire/telemetry_data.h"

namespace tracewire {

namespace sdk {
struct ActiveSpan;
struct RecordedSpan;
class ProviderState;
struct SpanRefAccess;
}  // namespace sdk
TRACEWIRE_BEGIN_API

class Span;
class Tracer;

// Limits on what one span keeps; what is over a limit is dropped and counted
// in the span's dropped_*_count fields.
struct SpanLimits {
  uint32_t attribute_count = 128;
  uint32_t attribute_value_length = UINT32_MAX;  // strings are truncated to this
  uint32_t event_count = 128;
  uint32_t link_count = 128;
  uint32_t attributes_per_event = 128;
  uint32_t attributes_per_link = 128;
  // From OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
  // OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT,
  // OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, OTEL_LINK_ATTRIBUTE_COUNT_LIMIT and the
  // general OTEL_ATTRIBUTE_{COUNT,VALUE_LENGTH}_LIMIT.
  static absl::StatusOr<SpanLimits> FromEnv();
};

// A finished span as processors and exporters see it. Shared by reference
// count; the storage is freed when the last SpanRef goes away. The span is
// stored compactly; data() decodes it into a SpanData the first time it is
// called (thread-safe) and keeps that until the storage is freed.
// Spans are stored in 64 KiB blocks shared by the spans one thread ended
// one after another, and a block is freed when all of its spans are: a
// processor that keeps a few spans for long (sampling after the fact) should
// keep copies of data(), not SpanRefs.
class SpanRef {
 public:
  SpanRef() = default;
  SpanRef(const SpanRef& o);
  SpanRef(SpanRef&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  SpanRef& operator=(SpanRef o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~SpanRef() {
    if (s_ != nullptr) Unref(s_);  // inline: batches of released refs cost a test each
  }

  const SpanData& data() const;
  // W3C trace flags (bits 0-7) and the OTLP is-remote bits (8-9), without
  // decoding the span.
  uint32_t flags() const;
  const Resource& resource() const;
  const InstrumentationScope& scope() const;
  explicit operator bool() const { return s_ != nullptr; }

 private:
  // The SDK's processors and encoders reach the record (src/sdk/trace).
  friend struct sdk::SpanRefAccess;
  static void Unref(sdk::RecordedSpan* s);
  sdk::RecordedSpan* s_ = nullptr;
};

// An attribute borrowed for the length of one call that copies it at once
// (Span::AddEvent): scalar values only, nothing allocated to pass it. For
// arrays, byte strings or maps, pass an Attributes list instead.
//   span.AddEvent("cache lookup", {{"cache.key", key}, {"cache.hit", true}});
class AttributeView {
 public:
  enum class Type : uint8_t { kString, kBool, kInt, kDouble };
  AttributeView(std::string_view key, std::string_view v)
      : key_(key), type_(Type::kString), s_(v) {}
  AttributeView(std::string_view key, const char* v) : AttributeView(key, std::string_view(v)) {}
  AttributeView(std::string_view key, const std::string& v)
      : AttributeView(key, std::string_view(v)) {}
  AttributeView(std::string_view key, bool v) : key_(key), type_(Type::kBool), i_(v) {}
  AttributeView(std::string_view key, int v) : key_(key), type_(Type::kInt), i_(v) {}
  AttributeView(std::string_view key, int64_t v) : key_(key), type_(Type::kInt), i_(v) {}
  AttributeView(std::string_view key, double v) : key_(key), type_(Type::kDouble), d_(v) {}

  std::string_view key() const { return key_; }
  Type type() const { return type_; }
  std::string_view string_value() const { return s_; }
  bool bool_value() const { return i_ != 0; }
  int64_t int_value() const { return i_; }
  double double_value() const { return d_; }

 private:
  std::string_view key_;
  Type type_;
  std::string_view s_;
  int64_t i_ = 0;
  double d_ = 0;
};

struct StartSpanOptions {
  SpanKind kind = SpanKind::kInternal;
  // The parent: when unset, the calling thread's current context.
  std::optional<Context> parent;
  Attributes attributes;
  std::vector<SpanLink> links;
  uint64_t start_time_unix_nano = 0;  // 0: now
};

class Span {
 public:
  Span() = default;  // a non-recording span with an invalid context
  Span(Span&& o) noexcept;
  Span& operator=(Span&& o) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() {  // ends the span if it was not ended
    if (rec_ != nullptr) End();
  }

  void SetAttribute(std::string_view key, AnyValue value);
  // Overloads for the common scalar types: they reuse the span's storage and
  // allocate nothing in the common case.
  void SetAttribute(std::string_view key, std::string_view value);
  void SetAttribute(std::string_view key, const char* value) {
    SetAttribute(key, std::string_view(value));
  }
  void SetAttribute(std::string_view key, const std::string& value) {
    SetAttribute(key, std::string_view(value));
  }
  void SetAttribute(std::string_view key, int64_t value);
  void SetAttribute(std::string_view key, int value) { SetAttribute(key, int64_t{value}); }
  void SetAttribute(std::string_view key, double value);
  void SetAttribute(std::string_view key, bool value);
  // Events: the first form copies borrowed scalar attributes into storage the
  // span reuses, and allocates nothing in the common case; the second takes
  // any attribute values. time 0: now.
  void AddEvent(std::string_view name, std::initializer_list<AttributeView> attributes = {},
                uint64_t time_unix_nano = 0);
  void AddEvent(std::string_view name, Attributes attributes, uint64_t time_unix_nano = 0);
  void AddLink(const SpanContext& context, Attributes attributes = {});
  void SetStatus(StatusCode code, std::string_view description = {});
  // Adds an "exception" event with exception.type, exception.message and
  // exception.stacktrace (when given), as the semantic conventions say.
  void RecordException(std::string_view type, std::string_view message,
                       std::string_view stacktrace = {});
  void UpdateName(std::string_view name);
  void End(uint64_t end_time_unix_nano = 0);

  bool IsRecording() const { return rec_ != nullptr; }
  const SpanContext& GetContext() const { return context_; }
  // The current context with this span as the active one.
  Context ContextWithSpan(const Context& base = Context::Current()) const {
    return base.WithSpanContext(context_);
  }
  // Makes this span the calling thread's current span until the Scope ends:
  // attaches ContextWithSpan() (so spans started meanwhile are its children)
  // and records this Span's address with it, so that CurrentSpan() reaches
  // it. Lifetime: the Scope keeps the address, so this Span must outlive the
  // Scope and must not be moved while the Scope is active (declare the Span
  // before the Scope, or use ScopedSpan); the Scope ends on this thread, as
  // every Context::Scope. A copy of the current Context (Context::Current()),
  // on this thread or another, carries only the SpanContext, never the
  // address.
  [[nodiscard]] Context::Scope MakeCurrent();

 private:
  friend class Tracer;
  void AddEventViews(std::string_view name, std::span<const AttributeView> attributes,
                     uint64_t time_unix_nano);
  Span(sdk::ActiveSpan* rec, SpanContext ctx) : rec_(rec), context_(std::move(ctx)) {}
  sdk::ActiveSpan* rec_ = nullptr;
  SpanContext context_;
};

class Tracer {
 public:
  Span StartSpan(std::string_view name, const StartSpanOptions& options = {});
  // The common case, without building options: a span of `kind` whose
  // parent is the calling thread's current context, started now.
  Span StartSpan(std::string_view name, SpanKind kind);
  const InstrumentationScope& scope() const { return scope_; }

 private:
  // Both StartSpans: `options` null means none (no attributes, no links).
  Span Start(std::string_view name, SpanKind kind, const Context& parent,
             const StartSpanOptions* options);
  friend class sdk::ProviderState;
  friend class SpanRef;
  friend Tracer* NoopTracer();
  Tracer(sdk::ProviderState* p, InstrumentationScope scope)
      : provider_(p), scope_(std::move(scope)) {}
  sdk::ProviderState* provider_;
  const InstrumentationScope scope_;
};

// Starts a span and makes it the current one (Span::MakeCurrent) until it
// goes out of scope, then ends it. Neither copied nor moved: the scope keeps
// the span's address.
class ScopedSpan {
 public:
  ScopedSpan(Tracer& tracer, std::string_view name, const StartSpanOptions& options = {})
      : span_(tracer.StartSpan(name, options)), scope_(span_.MakeCurrent()) {}
  ScopedSpan(Tracer& tracer, std::string_view name, SpanKind kind)
      : span_(tracer.StartSpan(name, kind)), scope_(span_.MakeCurrent()) {}
  ScopedSpan(const ScopedSpan&) = delete;
  ScopedSpan& operator=(const ScopedSpan&) = delete;
  Span& operator*() { return span_; }
  Span* operator->() { return &span_; }

 private:
  Span span_;
  Context::Scope scope_;  // declared after span_: ends before the span does
};

// The calling thread's current span, as CurrentSpan() gives it: what
// instrumented code needs to add to the span it runs in. It does not own the
// span (no End: the code that started the span ends it). When no span was
// made current, or the current context was attached from a Context
// (Context::Attach, e.g. a remote parent) rather than by a Span, the handle
// is non-recording: its calls do nothing and GetContext() is the current
// context's SpanContext.
//
// Lifetime: valid only on the thread that called CurrentSpan(), while the
// scope that made the span current is active (do not keep it past that
// scope, nor hand it to another thread; pass a Context for that).
class SpanHandle {
 public:
  void SetAttribute(std::string_view key, AnyValue value) {
    if (span_ != nullptr) span_->SetAttribute(key, std::move(value));
  }
  void SetAttribute(std::string_view key, std::string_view value) {
    if (span_ != nullptr) span_->SetAttribute(key, value);
  }
  void SetAttribute(std::string_view key, const char* value) {
    SetAttribute(key, std::string_view(value));
  }
  void SetAttribute(std::string_view key, const std::string& value) {
    SetAttribute(key, std::string_view(value));
  }
  void SetAttribute(std::string_view key, int64_t value) {
    if (span_ != nullptr) span_->SetAttribute(key, value);
  }
  void SetAttribute(std::string_view key, int value) { SetAttribute(key, int64_t{value}); }
  void SetAttribute(std::string_view key, double value) {
    if (span_ != nullptr) span_->SetAttribute(key, value);
  }
  void SetAttribute(std::string_view key, bool value) {
    if (span_ != nullptr) span_->SetAttribute(key, value);
  }
  void AddEvent(std::string_view name, std::initializer_list<AttributeView> attributes = {},
                uint64_t time_unix_nano = 0) {
    if (span_ != nullptr) span_->AddEvent(name, attributes, time_unix_nano);
  }
  void AddEvent(std::string_view name, Attributes attributes, uint64_t time_unix_nano = 0) {
    if (span_ != nullptr) span_->AddEvent(name, std::move(attributes), time_unix_nano);
  }
  void AddLink(const SpanContext& context, Attributes attributes = {}) {
    if (span_ != nullptr) span_->AddLink(context, std::move(attributes));
  }
  void SetStatus(StatusCode code, std::string_view description = {}) {
    if (span_ != nullptr) span_->SetStatus(code, description);
  }
  void RecordException(std::string_view type, std::string_view message,
                       std::string_view stacktrace = {}) {
    if (span_ != nullptr) span_->RecordException(type, message, stacktrace);
  }
  void UpdateName(std::string_view name) {
    if (span_ != nullptr) span_->UpdateName(name);
  }

  bool IsRecording() const { return span_ != nullptr && span_->IsRecording(); }
  const SpanContext& GetContext() const { return context_; }

 private:
  friend SpanHandle CurrentSpan();
  SpanHandle(Span* span, SpanContext context) : span_(span), context_(std::move(context)) {}
  Span* span_;           // null: non-recording
  SpanContext context_;  // the current context's when the handle was made
};

// The calling thread's current span (see SpanHandle): the innermost active
// Span::MakeCurrent scope (or ScopedSpan), unless a Context was attached
// after it. Cheap: a read of the thread's context stack and a copy of the
// SpanContext.
SpanHandle CurrentSpan();

struct TracerProviderOptions {
  Resource resource;  // merged over the SDK's telemetry.sdk.* attributes
  std::shared_ptr<Sampler> sampler = MakeParentBasedSampler(MakeAlwaysOnSampler());
  std::vector<std::unique_ptr<SpanProcessor>> processors;
  std::unique_ptr<IdGenerator> id_generator;  // default: random
  SpanLimits limits;
};

class TracerProvider {
 public:
  static absl::StatusOr<std::unique_ptr<TracerProvider>> Create(TracerProviderOptions options);
  ~TracerProvider();  // shuts down with a 5 s deadline if not shut down

  // The tracer of an instrumentation scope; the same pointer for the same
  // scope, valid as long as the provider.
  Tracer* GetTracer(std::string_view name, std::string_view version = {},
                    std::string_view schema_url = {}, Attributes attributes = {});

  [[nodiscard]] absl::Status ForceFlush(absl::Time deadline);
  [[nodiscard]] absl::Status Shutdown(absl::Time deadline);
  // Its processors' (readers') and their exporters' own telemetry
  // (self_telemetry.h); empty for the no-op provider.
  std::vector<SelfMetricPoint> SelfMetrics() const;
  const Resource& resource() const;  // empty for NoopTracerProvider()

 private:
  friend TracerProvider* NoopTracerProvider();
  explicit TracerProvider(std::unique_ptr<sdk::ProviderState> state);
  std::unique_ptr<sdk::ProviderState> state_;
};

// A tracer that records nothing: the cost of tracing when it is off.
Tracer* NoopTracer();
// A provider whose tracers are NoopTracer(), for the process's lifetime:
// what tracewire::GetTracerProvider() gives until one is set (global.h).
TracerProvider* NoopTracerProvider();

TRACEWIRE_END_API

}  // namespace tracewire
