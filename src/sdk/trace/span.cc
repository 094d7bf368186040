// Span, Tracer, SpanRef, TracerProvider: the API's implementation.

#include <algorithm>
#include <cstring>

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

// One bit per key in RecordedSpan::key_bits: the key's length and last byte,
// which tell apart most keys set on one span. A clear bit proves the key is
// new, so the common case skips the scan for a duplicate.
uint64_t KeyBit(std::string_view key) {
  const size_t h = key.size() * 7 + (key.empty() ? 0 : static_cast<unsigned char>(key.back()));
  return uint64_t{1} << (h & 63);
}

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Byte equality, inline for the short keys and values spans hold: a call to
// memcmp costs more than the compare itself.
bool SameBytes(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n > 32) return std::memcmp(p, q, n) == 0;
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (Load64(p + i) != Load64(q + i)) return false;
    }
    return Load64(p + n - 8) == Load64(q + n - 8);
  }
  if (n >= 4) return Load32(p) == Load32(q) && Load32(p + n - 4) == Load32(q + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

// Stores a string into reused storage. Spans from the same code set the same
// keys in the same order, often with the same values, so the stored bytes
// usually match already and the copy is skipped.
void AssignBytes(std::string* stored, std::string_view s) {
  if (!SameBytes(*stored, s)) stored->assign(s.data(), s.size());
}

void AssignString(AnyValue* v, std::string_view s) {
  if (auto* str = std::get_if<std::string>(&v->value)) {
    AssignBytes(str, s);  // reuses the string's capacity
  } else {
    v->value.emplace<std::string>(s);
  }
}

void AssignView(KeyValue* kv, const AttributeView& a, uint32_t length_limit) {
  AssignBytes(&kv->key, a.key());
  switch (a.type()) {
    case AttributeView::Type::kString: {
      std::string_view v = a.string_value();
      AssignString(&kv->value, v.substr(0, std::min<size_t>(v.size(), length_limit)));
      break;
    }
    case AttributeView::Type::kBool:
      kv->value.value = a.bool_value();
      break;
    case AttributeView::Type::kInt:
      kv->value.value = a.int_value();
      break;
    case AttributeView::Type::kDouble:
      kv->value.value = a.double_value();
      break;
  }
}

// Finds the slot for `key` among the span's attributes, reusing a stored
// element past attr_count when there is one. Null when over the limit.
KeyValue* AttributeSlot(sdk::RecordedSpan* r, std::string_view key) {
  SpanData& d = r->data;
  const uint64_t bit = KeyBit(key);
  if (r->key_bits & bit) {
    for (uint32_t i = 0; i < r->attr_count; ++i) {
      if (SameBytes(d.attributes[i].key, key)) return &d.attributes[i];  // replaces the value
    }
  }
  if (r->attr_count >= r->provider->limits().attribute_count) {
    ++d.dropped_attributes_count;
    return nullptr;
  }
  r->key_bits |= bit;
  if (r->attr_count == d.attributes.size()) d.attributes.emplace_back();
  KeyValue* kv = &d.attributes[r->attr_count++];
  AssignBytes(&kv->key, key);
  return kv;
}

// The next event slot, reusing a stored element; null when over the limit.
SpanEvent* EventSlot(sdk::RecordedSpan* r, std::string_view name, uint64_t time_unix_nano) {
  SpanData& d = r->data;
  if (r->event_count >= r->provider->limits().event_count) {
    ++d.dropped_events_count;
    return nullptr;
  }
  if (r->event_count == d.events.size()) d.events.emplace_back();
  SpanEvent* e = &d.events[r->event_count++];
  e->time_unix_nano = time_unix_nano ? time_unix_nano : NowNanos();
  AssignBytes(&e->name, name);
  e->dropped_attributes_count = 0;
  return e;
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
  if (KeyValue* kv = AttributeSlot(rec_, key)) AssignString(&kv->value, value);
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

void Span::AddEvent(std::string_view name, std::initializer_list<AttributeView> attributes,
                    uint64_t time_unix_nano) {
  AddEventViews(name, std::span<const AttributeView>(attributes.begin(), attributes.size()),
                time_unix_nano);
}

void Span::AddEventViews(std::string_view name, std::span<const AttributeView> attributes,
                         uint64_t time_unix_nano) {
  if (!rec_) return;
  SpanEvent* e = EventSlot(rec_, name, time_unix_nano);
  if (e == nullptr) return;
  const SpanLimits& l = rec_->provider->limits();
  uint32_t n = 0;
  for (const AttributeView& a : attributes) {
    if (n >= l.attributes_per_event) {
      ++e->dropped_attributes_count;
      continue;
    }
    if (n == e->attributes.size()) e->attributes.emplace_back();
    AssignView(&e->attributes[n++], a, l.attribute_value_length);
  }
  e->attributes.resize(n);
}

void Span::AddEvent(std::string_view name, Attributes attributes, uint64_t time_unix_nano) {
  if (!rec_) return;
  SpanEvent* e = EventSlot(rec_, name, time_unix_nano);
  if (e == nullptr) return;
  const SpanLimits& l = rec_->provider->limits();
  e->attributes = std::move(attributes);
  LimitAttributes(&e->attributes, &e->dropped_attributes_count, l.attributes_per_event,
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
  // Only the attributes that are given.
  const AttributeView all[] = {{"exception.type", type},
                               {"exception.message", message},
                               {"exception.stacktrace", stacktrace}};
  std::vector<AttributeView> given;
  for (const AttributeView& a : all) {
    if (!a.string_value().empty()) given.push_back(a);
  }
  AddEventViews("exception", given, 0);
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
  // Nobody else holds the span yet: its first reference needs no atomic add.
  r->refs.store(1, std::memory_order_relaxed);
  SpanRef ref = SpanRef::Adopt(r);
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
  const bool has_parent = pc.IsValid();
  SpanContext ctx;
  ctx.trace_id = has_parent ? pc.trace_id : provider_->ids().NewTraceId();
  SamplingResult sr = provider_->sampler().ShouldSample(pc, ctx.trace_id, name, options.kind,
                                                        options.attributes);
  ctx.span_id = provider_->ids().NewSpanId();
  if (has_parent) ctx.trace_state = pc.trace_state;
  ctx.trace_flags = sr.decision == SamplingDecision::kRecordAndSample ? kTraceFlagSampled : 0;
  if (sr.decision == SamplingDecision::kDrop) return Span(nullptr, std::move(ctx));

  sdk::RecordedSpan* r = provider_->Acquire();
  r->scope = &scope_;
  SpanData& d = r->data;
  d.trace_id = ctx.trace_id;
  d.span_id = ctx.span_id;
  d.trace_state = ctx.trace_state;
  if (has_parent) d.parent_span_id = pc.span_id;
  d.flags = ctx.trace_flags | 0x100 | (has_parent && pc.is_remote ? 0x200 : 0);
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
