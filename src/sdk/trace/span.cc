// Span, Tracer, SpanRef, TracerProvider: the API's implementation.

#include "absl/time/clock.h"
#include "sdk/trace/provider_state.h"

namespace tracewire {
namespace {

uint64_t NowNanos() { return static_cast<uint64_t>(absl::GetCurrentTimeNanos()); }

// Applies a count limit to a list given at once.
void LimitAttributes(Attributes* attrs, uint32_t* dropped, uint32_t count_limit,
                     uint32_t length_limit) {
  if (attrs->size() > count_limit) {
    *dropped += static_cast<uint32_t>(attrs->size() - count_limit);
    attrs->resize(count_limit);
  }
  if (length_limit != UINT32_MAX) {
    for (auto& kv : *attrs) sdk::TruncateValue(&kv.value, length_limit);
  }
}

}  // namespace

// ---- SpanRef -------------------------------------------------------------

SpanRef::SpanRef(sdk::RecordedSpan* s) : s_(s) {
  if (s_) s_->refs.fetch_add(1, std::memory_order_relaxed);
}

SpanRef::SpanRef(const SpanRef& o) : s_(o.s_) {
  if (s_) s_->refs.fetch_add(1, std::memory_order_relaxed);
}

SpanRef::~SpanRef() {
  // acq_rel: the last owner sees every write before recycling the span.
  if (s_ && s_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) s_->provider->Release(s_);
}

const SpanData& SpanRef::data() const { return s_->data; }
const Resource& SpanRef::resource() const { return s_->provider->resource(); }
const InstrumentationScope& SpanRef::scope() const { return *s_->scope; }

// ---- Span ----------------------------------------------------------------

Span::Span(Span&& o) noexcept
    : rec_(std::exchange(o.rec_, nullptr)), context_(std::move(o.context_)) {}

Span& Span::operator=(Span&& o) noexcept {
  if (this != &o) {
    End();
    rec_ = std::exchange(o.rec_, nullptr);
    context_ = std::move(o.context_);
  }
  return *this;
}

Span::~Span() { End(); }

namespace {

// Finds the slot for `key` among the span's attributes, reusing a stored
// element past attr_count when there is one. Null when over the limit.
KeyValue* AttributeSlot(sdk::RecordedSpan* r, std::string_view key) {
  SpanData& d = r->data;
  for (uint32_t i = 0; i < r->attr_count; ++i) {
    if (d.attributes[i].key == key) return &d.attributes[i];  // replaces the value
  }
  if (r->attr_count >= r->provider->limits().attribute_count) {
    ++d.dropped_attributes_count;
    return nullptr;
  }
  if (r->attr_count == d.attributes.size()) d.attributes.emplace_back();
  KeyValue* kv = &d.attributes[r->attr_count++];
  kv->key.assign(key.data(), key.size());
  return kv;
}

}  // namespace

void Span::SetAttribute(std::string_view key, AnyValue value) {
  if (!rec_) return;
  const uint32_t length_limit = rec_->provider->limits().attribute_value_length;
  if (length_limit != UINT32_MAX) sdk::TruncateValue(&value, length_limit);
  if (KeyValue* kv = AttributeSlot(rec_, key)) kv->value = std::move(value);
}

void Span::SetAttribute(std::string_view key, std::string_view value) {
  if (!rec_) return;
  const uint32_t length_limit = rec_->provider->limits().attribute_value_length;
  if (value.size() > length_limit) value = value.substr(0, length_limit);
  KeyValue* kv = AttributeSlot(rec_, key);
  if (kv == nullptr) return;
  if (auto* s = std::get_if<std::string>(&kv->value.value)) {
    s->assign(value.data(), value.size());  // reuses the string's capacity
  } else {
    kv->value.value.emplace<std::string>(value);
  }
}

void Span::SetAttribute(std::string_view key, int64_t value) {
  if (!rec_) return;
  if (KeyValue* kv = AttributeSlot(rec_, key)) kv->value.value = value;
}

void Span::SetAttribute(std::string_view key, double value) {
  if (!rec_) return;
  if (KeyValue* kv = AttributeSlot(rec_, key)) kv->value.value = value;
}

void Span::SetAttribute(std::string_view key, bool value) {
  if (!rec_) return;
  if (KeyValue* kv = AttributeSlot(rec_, key)) kv->value.value = value;
}

void Span::AddEvent(std::string_view name, Attributes attributes, uint64_t time_unix_nano) {
  if (!rec_) return;
  const SpanLimits& l = rec_->provider->limits();
  SpanData& d = rec_->data;
  if (rec_->event_count >= l.event_count) {
    ++d.dropped_events_count;
    return;
  }
  if (rec_->event_count == d.events.size()) d.events.emplace_back();
  SpanEvent& e = d.events[rec_->event_count++];
  e.time_unix_nano = time_unix_nano ? time_unix_nano : NowNanos();
  e.name.assign(name.data(), name.size());
  e.attributes = std::move(attributes);
  e.dropped_attributes_count = 0;
  LimitAttributes(&e.attributes, &e.dropped_attributes_count, l.attributes_per_event,
                  l.attribute_value_length);
}

void Span::AddLink(const SpanContext& context, Attributes attributes) {
  if (!rec_ || !context.IsValid()) return;
  const SpanLimits& l = rec_->provider->limits();
  if (rec_->data.links.size() >= l.link_count) {
    ++rec_->data.dropped_links_count;
    return;
  }
  SpanLink& k = rec_->data.links.emplace_back();
  k.trace_id = context.trace_id;
  k.span_id = context.span_id;
  k.trace_state = context.trace_state;
  k.flags = context.trace_flags | 0x100 | (context.is_remote ? 0x200 : 0);
  k.attributes = std::move(attributes);
  LimitAttributes(&k.attributes, &k.dropped_attributes_count, l.attributes_per_link,
                  l.attribute_value_length);
}

void Span::SetStatus(StatusCode code, std::string_view description) {
  if (!rec_) return;
  SpanData& d = rec_->data;
  if (d.status_code == StatusCode::kOk) return;  // Ok is final (specification).
  if (code == StatusCode::kUnset) return;
  d.status_code = code;
  d.status_message = code == StatusCode::kError ? std::string(description) : std::string();
}

void Span::RecordException(std::string_view type, std::string_view message,
                           std::string_view stacktrace) {
  Attributes a;
  if (!type.empty()) a.push_back({"exception.type", std::string(type)});
  if (!message.empty()) a.push_back({"exception.message", std::string(message)});
  if (!stacktrace.empty()) a.push_back({"exception.stacktrace", std::string(stacktrace)});
  AddEvent("exception", std::move(a));
}

void Span::UpdateName(std::string_view name) {
  if (rec_) rec_->data.name = std::string(name);
}

void Span::End(uint64_t end_time_unix_nano) {
  sdk::RecordedSpan* r = std::exchange(rec_, nullptr);
  if (!r) return;
  r->data.end_time_unix_nano = end_time_unix_nano ? end_time_unix_nano : NowNanos();
  if (r->data.end_time_unix_nano < r->data.start_time_unix_nano) {
    r->data.end_time_unix_nano = r->data.start_time_unix_nano;
  }
  r->ended = true;
  r->data.attributes.resize(r->attr_count);
  r->data.events.resize(r->event_count);
  SpanRef ref(r);
  // Every recording span reaches OnEnd; processors that export skip the ones
  // not sampled (RecordOnly).
  const auto& procs = r->provider->processors();
  for (size_t i = 0; i + 1 < procs.size(); ++i) procs[i]->OnEnd(ref);
  if (!procs.empty()) procs.back()->OnEnd(std::move(ref));
}

// ---- Tracer --------------------------------------------------------------

Span Tracer::StartSpan(std::string_view name, const StartSpanOptions& options) {
  if (provider_ == nullptr || provider_->shut_down()) return Span();
  const Context& parent = options.parent ? *options.parent : Context::Current();
  const SpanContext& pc = parent.span_context();
  SpanContext ctx;
  ctx.trace_id = pc.IsValid() ? pc.trace_id : provider_->ids().NewTraceId();
  SamplingResult sr = provider_->sampler().ShouldSample(pc, ctx.trace_id, name, options.kind,
                                                        options.attributes);
  ctx.span_id = provider_->ids().NewSpanId();
  ctx.trace_state = pc.IsValid() ? pc.trace_state : std::string();
  ctx.trace_flags = sr.decision == SamplingDecision::kRecordAndSample ? kTraceFlagSampled : 0;
  if (sr.decision == SamplingDecision::kDrop) return Span(nullptr, std::move(ctx));

  sdk::RecordedSpan* r = provider_->Acquire();
  r->scope = &scope_;
  SpanData& d = r->data;
  d.trace_id = ctx.trace_id;
  d.span_id = ctx.span_id;
  d.trace_state = ctx.trace_state;
  if (pc.IsValid()) d.parent_span_id = pc.span_id;
  d.flags = ctx.trace_flags | 0x100 | (pc.IsValid() && pc.is_remote ? 0x200 : 0);
  d.name.assign(name.data(), name.size());
  d.kind = options.kind;
  d.start_time_unix_nano = options.start_time_unix_nano ? options.start_time_unix_nano : NowNanos();
  d.end_time_unix_nano = 0;
  Span span(r, std::move(ctx));
  for (const auto& kv : options.attributes) span.SetAttribute(kv.key, kv.value);
  for (auto& kv : sr.attributes) span.SetAttribute(kv.key, std::move(kv.value));
  for (const auto& link : options.links) {
    SpanContext lc;
    lc.trace_id = link.trace_id;
    lc.span_id = link.span_id;
    lc.trace_state = link.trace_state;
    lc.trace_flags = static_cast<uint8_t>(link.flags & 0xff);
    span.AddLink(lc, link.attributes);
  }
  for (auto& p : provider_->processors()) p->OnStart(d, parent);
  return span;
}

Tracer* NoopTracer() {
  static Tracer* t = new Tracer(nullptr, InstrumentationScope{});
  return t;
}

// ---- TracerProvider ------------------------------------------------------

absl::StatusOr<std::unique_ptr<TracerProvider>> TracerProvider::Create(
    TracerProviderOptions options) {
  for (const auto& p : options.processors) {
    if (!p) return absl::InvalidArgumentError("TracerProviderOptions.processors holds a null");
  }
  return std::unique_ptr<TracerProvider>(
      new TracerProvider(std::make_unique<sdk::ProviderState>(std::move(options))));
}

TracerProvider::TracerProvider(std::unique_ptr<sdk::ProviderState> state)
    : state_(std::move(state)) {}

TracerProvider::~TracerProvider() {
  (void)state_->Shutdown(absl::Now() + absl::Seconds(5));
}

Tracer* TracerProvider::GetTracer(std::string_view name, std::string_view version,
                                  std::string_view schema_url, Attributes attributes) {
  return state_->GetTracer(name, version, schema_url, std::move(attributes));
}

absl::Status TracerProvider::ForceFlush(absl::Time deadline) {
  return state_->ForceFlush(deadline);
}

absl::Status TracerProvider::Shutdown(absl::Time deadline) { return state_->Shutdown(deadline); }

const Resource& TracerProvider::resource() const { return state_->resource(); }

}  // namespace tracewire
