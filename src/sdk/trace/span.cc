// Span, Tracer, SpanRef, TracerProvider: the API's implementation.

#include "absl/time/clock.h"
#include "sdk/trace/provider_state.h"

namespace tracewire {
namespace {

uint64_t NowNanos() { return static_cast<uint64_t>(absl::GetCurrentTimeNanos()); }

void AddAttributeLimited(Attributes* attrs, uint32_t* dropped, uint32_t count_limit,
                         uint32_t length_limit, std::string_view key, AnyValue value) {
  if (length_limit != UINT32_MAX) sdk::TruncateValue(&value, length_limit);
  for (auto& kv : *attrs) {  // Setting a key again replaces its value.
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  if (attrs->size() >= count_limit) {
    ++*dropped;
    return;
  }
  attrs->push_back(KeyValue{std::string(key), std::move(value)});
}

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

void Span::SetAttribute(std::string_view key, AnyValue value) {
  if (!rec_) return;
  const SpanLimits& l = rec_->provider->limits();
  AddAttributeLimited(&rec_->data.attributes, &rec_->data.dropped_attributes_count,
                      l.attribute_count, l.attribute_value_length, key, std::move(value));
}

void Span::AddEvent(std::string_view name, Attributes attributes, uint64_t time_unix_nano) {
  if (!rec_) return;
  const SpanLimits& l = rec_->provider->limits();
  if (rec_->data.events.size() >= l.event_count) {
    ++rec_->data.dropped_events_count;
    return;
  }
  SpanEvent& e = rec_->data.events.emplace_back();
  e.time_unix_nano = time_unix_nano ? time_unix_nano : NowNanos();
  e.name = std::string(name);
  e.attributes = std::move(attributes);
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
  SpanRef ref(r);
  const auto& procs = r->provider->processors();
  if (!(context_.trace_flags & kTraceFlagSampled)) return;  // recorded, not exported
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
  const SpanLimits& l = provider_->limits();
  d.attributes = options.attributes;
  for (auto& kv : sr.attributes) d.attributes.push_back(std::move(kv));
  LimitAttributes(&d.attributes, &d.dropped_attributes_count, l.attribute_count,
                  l.attribute_value_length);
  Span span(r, std::move(ctx));
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
