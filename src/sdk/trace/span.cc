// Span, Tracer, SpanRef, TracerProvider: the API's implementation.
//
// A span records into an sdk::ActiveSpan (span_record.h): attributes,
// events and links are appended to byte buffers in the compact encoding as
// they are set, and End() seals them into a record for the processors.

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/base/attributes.h"
#include "absl/time/clock.h"
#include "common/wall_clock.h"
#include "propagation/context_internal.h"
#include "sdk/trace/batch_span_processor_internal.h"
#include "sdk/trace/provider_state.h"
#include "sdk/trace/span_ref_access.h"
#include "sdk/trace/string_table.h"
#include "wire/wire_primitives.h"

namespace tracewire {
namespace {

using sdk::ActiveSpan;
using sdk::ByteBuf;
using sdk::kMaxScalar;
using sdk::PutBoolAt;
using sdk::PutDoubleAt;
using sdk::PutIntAt;
using sdk::PutKeyAt;

// The TSC, converted (common/wall_clock.h): a third of absl's clock's cost.
uint64_t NowNanos() { return common::WallNanos(); }

// Where the encoded value of `key` is among the span's attributes.
bool FindAttribute(const ActiveSpan& a, std::string_view key, size_t* pos, size_t* len) {
  sdk::RecordReader rd(a.attrs.data(), a.attrs.data() + a.attrs.size());
  for (uint32_t i = 0; i < a.attr_count; ++i) {
    std::string_view k = rd.KeyRef();
    const char* v = rd.pos();
    rd.SkipValue();
    if (k == key) {
      *pos = static_cast<size_t>(v - a.attrs.data());
      *len = static_cast<size_t>(rd.pos() - v);
      return true;
    }
  }
  return false;
}

// Sets attribute `key` to the value that `put(char* w)` writes at w (at most
// `max_value` bytes; it returns the end): appended when the key is new,
// replaced in place when it was set before; dropped (and counted) over the
// count limit. One reservation and one commit for the key and the value.
//
// The rare paths (a key set before, the count limit) are out of line, so the
// common one keeps a small frame.
template <typename Put>
ABSL_ATTRIBUTE_NOINLINE bool SetAttrRare(ActiveSpan* a, std::string_view key, size_t max_value,
                                         const Put& put, bool maybe_set) {
  if (maybe_set) {
    size_t pos, len;
    if (FindAttribute(*a, key, &pos, &len)) {
      ByteBuf value;
      value.Commit(put(value.Reserve(max_value)));
      a->attrs.Replace(pos, len, value.data(), value.size());
      return true;
    }
  }
  if (a->attr_count >= a->attribute_count_limit) {
    ++a->dropped_attrs;
    return true;
  }
  return false;  // a new key, under the limit
}

// The general path: looks the key up, grows the buffer, handles a key set
// before and the count limit.
template <typename Put>
ABSL_ATTRIBUTE_NOINLINE void SetAttrSlow(ActiveSpan* a, std::string_view key, size_t max_value,
                                         Put put) {  // by value: SetAttr tail-calls this
  const sdk::InternedKey k = a->Intern(key);
  const sdk::KeyBit kb = k.bit;
  const uint32_t id = k.id;
  const bool maybe_set = (a->key_bits[kb.word] & kb.bit) != 0;
  if (maybe_set || a->attr_count >= a->attribute_count_limit) [[unlikely]] {
    if (SetAttrRare(a, key, max_value, put, maybe_set)) return;
  }
  a->key_bits[kb.word] |= kb.bit;
  ++a->attr_count;
  char* w = a->attrs.Reserve(1 + sdk::kMaxVarint + key.size() + max_value);
  a->attrs.Commit(put(PutKeyAt(w, id, key)));
}

// The common case without a call (so without a stack frame): a literal key
// remembered from the span before (ActiveSpan::Intern), new to this span,
// under the limit, with room in the buffer. Anything else: SetAttrSlow.
template <typename Put>
void SetAttr(ActiveSpan* a, std::string_view key, size_t max_value, const Put& put) {
  const uint32_t i = a->intern_calls;
  if (i < ActiveSpan::kMemo) {
    const ActiveSpan::Memo& m = a->memo[i];
    const size_t need = 1 + sdk::kMaxVarint + key.size() + max_value;
    // A table id under 128 is one byte: no call in this path, so no
    // registers to save.
    if (m.ptr == key.data() && m.len == key.size() && m.key.id - 1 < 127 &&
        (a->key_bits[m.key.bit.word] & m.key.bit.bit) == 0 &&
        a->attr_count < a->attribute_count_limit && a->attrs.HasRoom(need)) {
      a->intern_calls = i + 1;
      a->key_bits[m.key.bit.word] |= m.key.bit.bit;
      ++a->attr_count;
      char* w = a->attrs.end();
      *w = static_cast<char>(m.key.id);
      a->attrs.Commit(put(w + 1));
      return;
    }
  }
  SetAttrSlow(a, key, max_value, put);
}

// The largest size of a string value.
size_t MaxString(std::string_view v) { return 1 + sdk::kMaxVarint + v.size(); }
char* PutStringAt(char* w, std::string_view v) { return sdk::PutStringAt(w, sdk::kTagString, v); }

// The value of a view, truncated to the length limit (strings).
std::string_view ViewString(const AttributeView& v, uint32_t length_limit) {
  if (v.type() != AttributeView::Type::kString) return {};
  std::string_view s = v.string_value();
  return s.substr(0, std::min<size_t>(s.size(), length_limit));
}

// The most bytes an attribute given as a view takes.
size_t MaxView(const AttributeView& v, uint32_t length_limit) {
  return 1 + sdk::kMaxVarint + v.key().size() +
         std::max(kMaxScalar, MaxString(ViewString(v, length_limit)));
}

// Writes an attribute given as a view at w, which has MaxView bytes of room.
char* PutViewAt(ActiveSpan* a, char* w, const AttributeView& v, uint32_t length_limit) {
  w = PutKeyAt(w, a->Intern(v.key()).id, v.key());
  switch (v.type()) {
    case AttributeView::Type::kString:
      return PutStringAt(w, ViewString(v, length_limit));
    case AttributeView::Type::kBool:
      return PutBoolAt(w, v.bool_value());
    case AttributeView::Type::kInt:
      return PutIntAt(w, v.int_value());
    case AttributeView::Type::kDouble:
      return PutDoubleAt(w, v.double_value());
  }
  return w;
}

// Any value: encoded aside first, as its size is not known before.
void SetAnyValue(ActiveSpan* a, std::string_view key, const AnyValue& v) {
  ByteBuf value;
  sdk::PutValue(&value, v, a->value_length_limit);
  SetAttr(a, key, value.size(), [&value](char* w) {
    std::memcpy(w, value.data(), value.size());
    return w + value.size();
  });
}

void PutCounts(ByteBuf* b, uint64_t dropped, uint64_t count) {
  char* w = b->Reserve(2 * sdk::kMaxVarint);
  w = sdk::PutVarint(w, dropped);
  b->Commit(sdk::PutVarint(w, count));
}

// How many of an event's `given` attributes it keeps.
uint32_t EventAttributesKept(const ActiveSpan* a, size_t given) {
  return static_cast<uint32_t>(std::min<size_t>(given, a->attributes_per_event_limit));
}

// Starts an event: writes its time, name and counts, with `room` more bytes
// reserved after them for its attributes, and returns where those go; null
// when the span is over its event limit (the event is dropped and counted).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline char* BeginEvent(ActiveSpan* a, std::string_view name,
                                                     uint64_t time_unix_nano, size_t given,
                                                     uint32_t kept, size_t room) {
  if (a->event_count >= a->event_count_limit) {
    ++a->dropped_events;
    return nullptr;
  }
  ++a->event_count;
  const uint64_t t = time_unix_nano ? time_unix_nano : NowNanos();
  char* w = a->events.Reserve(3 * sdk::kMaxVarint + 1 + sdk::kMaxVarint + name.size() + room);
  w = sdk::PutVarint(w, sdk::ZigZag(static_cast<int64_t>(t - a->start_time_unix_nano)));
  w = PutKeyAt(w, a->Intern(name).id, name);
  w = sdk::PutVarint(w, given - kept);
  return sdk::PutVarint(w, kept);
}

}  // namespace

// ---- SpanRef -------------------------------------------------------------

SpanRef::SpanRef(const SpanRef& o) : s_(o.s_) {
  if (s_) {
    sdk::MarkShared(s_);
    s_->refs.fetch_add(1, std::memory_order_relaxed);
  }
}

void SpanRef::Unref(sdk::RecordedSpan* s) {
  // acq_rel: the last owner sees every write before freeing the record.
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) sdk::RecordedSpan::Release(s);
}

const SpanData& SpanRef::data() const {
  SpanData* d = s_->materialized.load(std::memory_order_acquire);
  if (d != nullptr) return *d;
  auto fresh = std::make_unique<SpanData>();
  sdk::Materialize(*s_, fresh.get());
  sdk::MarkShared(s_);  // the decoded copy is freed with the record
  // Two threads may decode at once; the first to publish wins.
  if (s_->materialized.compare_exchange_strong(d, fresh.get(), std::memory_order_acq_rel,
                                               std::memory_order_acquire)) {
    return *fresh.release();
  }
  return *d;
}

uint32_t SpanRef::flags() const { return s_->flags; }
const Resource& SpanRef::resource() const { return s_->tracer->provider_->resource(); }
const InstrumentationScope& SpanRef::scope() const { return s_->tracer->scope(); }

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

void Span::SetAttribute(std::string_view key, AnyValue value) {
  if (!rec_) return;
  SetAnyValue(rec_, key, value);
}

void Span::SetAttribute(std::string_view key, std::string_view value) {
  if (!rec_) return;
  const uint32_t limit = rec_->value_length_limit;
  if (value.size() > limit) value = value.substr(0, limit);
  auto put = [value](char* w) { return PutStringAt(w, value); };
  // Short values (most) are copied without a call.
  if (value.size() > 16) return SetAttrSlow(rec_, key, MaxString(value), put);
  SetAttr(rec_, key, MaxString(value), put);
}

void Span::SetAttribute(std::string_view key, int64_t value) {
  if (!rec_) return;
  SetAttr(rec_, key, kMaxScalar, [value](char* w) { return PutIntAt(w, value); });
}

void Span::SetAttribute(std::string_view key, double value) {
  if (!rec_) return;
  SetAttr(rec_, key, kMaxScalar, [value](char* w) { return PutDoubleAt(w, value); });
}

void Span::SetAttribute(std::string_view key, bool value) {
  if (!rec_) return;
  SetAttr(rec_, key, kMaxScalar, [value](char* w) { return PutBoolAt(w, value); });
}

void Span::AddEvent(std::string_view name, std::initializer_list<AttributeView> attributes,
                    uint64_t time_unix_nano) {
  AddEventViews(name, std::span<const AttributeView>(attributes.begin(), attributes.size()),
                time_unix_nano);
}

void Span::AddEventViews(std::string_view name, std::span<const AttributeView> attributes,
                         uint64_t time_unix_nano) {
  ActiveSpan* a = rec_;
  if (!a) return;
  const uint32_t kept = EventAttributesKept(a, attributes.size());
  const uint32_t limit = a->value_length_limit;
  size_t room = 0;  // one reservation for the whole event
  for (uint32_t i = 0; i < kept; ++i) room += MaxView(attributes[i], limit);
  char* w = BeginEvent(a, name, time_unix_nano, attributes.size(), kept, room);
  if (w == nullptr) return;
  for (uint32_t i = 0; i < kept; ++i) w = PutViewAt(a, w, attributes[i], limit);
  a->events.Commit(w);
}

void Span::AddEvent(std::string_view name, Attributes attributes, uint64_t time_unix_nano) {
  ActiveSpan* a = rec_;
  if (!a) return;
  const uint32_t kept = EventAttributesKept(a, attributes.size());
  char* w = BeginEvent(a, name, time_unix_nano, attributes.size(), kept, 0);
  if (w == nullptr) return;
  a->events.Commit(w);
  sdk::PutAttributes(&a->events, attributes, kept, a->value_length_limit);
}

void Span::AddLink(const SpanContext& context, Attributes attributes) {
  if (!rec_ || !context.IsValid()) return;
  const SpanLimits& l = rec_->provider->limits();
  if (rec_->link_count >= l.link_count) {
    ++rec_->dropped_links;
    return;
  }
  ++rec_->link_count;
  ByteBuf& b = rec_->links;
  b.Append(context.trace_id.data(), 16);
  b.Append(context.span_id.data(), 8);
  char* w = b.Reserve(sdk::kMaxVarint);
  b.Commit(sdk::PutVarint(w, context.trace_flags | 0x100 | (context.is_remote ? 0x200 : 0)));
  sdk::PutStr(&b, context.trace_state);
  const uint32_t kept =
      static_cast<uint32_t>(std::min<size_t>(attributes.size(), l.attributes_per_link));
  PutCounts(&b, attributes.size() - kept, kept);
  sdk::PutAttributes(&b, attributes, kept, l.attribute_value_length);
}

void Span::SetStatus(StatusCode code, std::string_view description) {
  if (!rec_) return;
  if (rec_->status == StatusCode::kOk) return;  // Ok is final (specification).
  if (code == StatusCode::kUnset) return;
  rec_->status = code;
  rec_->status_message.Clear();
  if (code == StatusCode::kError)
    rec_->status_message.Append(description.data(), description.size());
}

void Span::RecordException(std::string_view type, std::string_view message,
                           std::string_view stacktrace) {
  // Only the attributes that are given.
  const AttributeView all[] = {{"exception.type", type},
                               {"exception.message", message},
                               {"exception.stacktrace", stacktrace}};
  AttributeView given[3] = {all[0], all[1], all[2]};
  size_t n = 0;
  for (const AttributeView& a : all) {
    if (!a.string_value().empty()) given[n++] = a;
  }
  AddEventViews("exception", std::span<const AttributeView>(given, n), 0);
}

void Span::UpdateName(std::string_view name) {
  if (!rec_) return;
  rec_->name.Clear();
  sdk::PutKeyRef(&rec_->name, rec_->Intern(name).id, name);
}

Context::Scope Span::MakeCurrent() {
  Context::Scope scope = ContextWithSpan().Attach();
  context_internal::SetTopSpan(this);
  return scope;
}

SpanHandle CurrentSpan() {
  return SpanHandle(context_internal::TopSpan(), Context::Current().span_context());
}

void Span::End(uint64_t end_time_unix_nano) {
  ActiveSpan* a = std::exchange(rec_, nullptr);
  if (!a) return;
  uint64_t end = end_time_unix_nano ? end_time_unix_nano : NowNanos();
  if (end < a->start_time_unix_nano) end = a->start_time_unix_nano;
  // Every recording span reaches OnEnd; processors that export skip the ones
  // not sampled (RecordOnly).
  a->provider->span_counts().Add((a->flags & kTraceFlagSampled) != 0
                                     ? sdk::SpanCounters::kEndedSampled
                                     : sdk::SpanCounters::kEndedRecordOnly);
  const auto& procs = a->provider->processors();
  BatchSpanProcessor* batch = a->provider->sole_batch();
  if (batch != nullptr && (a->flags & kTraceFlagSampled) != 0) {
    // The queue cell is claimed before the record is written: x86 completes
    // the earlier stores before an atomic read-modify-write, and the
    // record's go to lines not yet in this core's cache (1 thread: +5 %).
    sdk::BatchSpanProcessorAccess::Claim claim;
    if (sdk::BatchSpanProcessorAccess::TryClaim(*batch, &claim)) {
      sdk::BatchSpanProcessorAccess::Fill(*batch, claim, sdk::Seal(*a, end));
    } else {
      batch->OnEnd(sdk::SpanRefAccess::Adopt(sdk::Seal(*a, end)));  // full: export or drop
    }
  } else if (!procs.empty()) {
    SpanRef ref = sdk::SpanRefAccess::Adopt(sdk::Seal(*a, end));  // the record's first reference
    for (size_t i = 0; i + 1 < procs.size(); ++i) procs[i]->OnEnd(ref);
    procs.back()->OnEnd(std::move(ref));
  }
  ActiveSpan::Recycle(a);
}

// ---- Tracer --------------------------------------------------------------

ABSL_ATTRIBUTE_ALWAYS_INLINE inline Span Tracer::Start(std::string_view name, SpanKind kind,
                                                       const Context& parent,
                                                       const StartSpanOptions* options) {
  // Every return returns `span`, so it is built in the caller's place.
  Span span;
  if (provider_ == nullptr || provider_->shut_down()) return span;
  const SpanContext& pc = parent.span_context();
  const bool has_parent = pc.IsValid();
  SpanContext& ctx = span.context_;
  // The SDK's own id generator and samplers without a virtual call (and
  // without a SamplingResult) when the provider has them.
  if (provider_->random_ids()) {
    if (has_parent) ctx.trace_id = pc.trace_id;
    sdk::NewRandomIds(has_parent ? nullptr : &ctx.trace_id, &ctx.span_id);
  } else {
    ctx.trace_id = has_parent ? pc.trace_id : provider_->ids().NewTraceId();
    ctx.span_id = provider_->ids().NewSpanId();
  }
  // A user's sampler's result (it may add attributes); the SDK's own give
  // only a decision.
  std::optional<SamplingResult> sr;
  SamplingDecision decision;
  const sdk::SamplerShape shape = provider_->sampler_shape();
  if (shape != sdk::SamplerShape::kOther) {
    decision = sdk::Decide(shape, pc);
  } else {
    static const Attributes kNone;
    sr = provider_->sampler().ShouldSample(pc, ctx.trace_id, name, kind,
                                           options ? options->attributes : kNone);
    decision = sr->decision;
  }
  if (has_parent) ctx.trace_state = pc.trace_state;
  ctx.trace_flags = decision == SamplingDecision::kRecordAndSample ? kTraceFlagSampled : 0;
  using C = sdk::SpanCounters;
  const C::ParentOrigin origin = !has_parent    ? C::kNoParent
                                 : pc.is_remote ? C::kRemoteParent
                                                : C::kLocalParent;
  if (decision == SamplingDecision::kDrop) {
    provider_->span_counts().Add(C::Started(C::kDrop, origin));
    return span;  // a context, not recording
  }
  provider_->span_counts().Add(C::Started(
      decision == SamplingDecision::kRecordAndSample ? C::kSampled : C::kRecordOnly, origin));

  ActiveSpan* a = ActiveSpan::Acquire();
  a->tracer = this;
  a->provider = provider_;
  a->trace_id = ctx.trace_id;
  a->span_id = ctx.span_id;
  a->has_parent = has_parent;
  if (has_parent) {
    a->parent_span_id = pc.span_id;
    a->trace_state.Append(ctx.trace_state.data(), ctx.trace_state.size());
  }
  a->flags = ctx.trace_flags | 0x100 | (has_parent && pc.is_remote ? 0x200 : 0);
  a->name.Clear();
  a->name.Commit(
      PutKeyAt(a->name.Reserve(1 + sdk::kMaxVarint + name.size()), a->Intern(name).id, name));
  a->kind = kind;
  const SpanLimits& limits = provider_->limits();
  a->attribute_count_limit = limits.attribute_count;
  a->value_length_limit = limits.attribute_value_length;
  a->event_count_limit = limits.event_count;
  a->attributes_per_event_limit = limits.attributes_per_event;
  a->start_time_unix_nano =
      options && options->start_time_unix_nano ? options->start_time_unix_nano : NowNanos();
  span.rec_ = a;
  if (options) {
    for (const auto& kv : options->attributes) SetAnyValue(a, kv.key, kv.value);
  }
  if (sr) {
    for (const auto& kv : sr->attributes) SetAnyValue(a, kv.key, kv.value);
  }
  if (options) {
    for (const auto& link : options->links) {
      SpanContext lc;
      lc.trace_id = link.trace_id;
      lc.span_id = link.span_id;
      lc.trace_state = link.trace_state;
      lc.trace_flags = static_cast<uint8_t>(link.flags & 0xff);
      span.AddLink(lc, link.attributes);
    }
  }
  for (auto& p : provider_->processors()) p->OnStart(span, parent);
  return span;
}

Span Tracer::StartSpan(std::string_view name, const StartSpanOptions& options) {
  return Start(name, options.kind, options.parent ? *options.parent : Context::Current(), &options);
}

Span Tracer::StartSpan(std::string_view name, SpanKind kind) {
  return Start(name, kind, Context::Current(), nullptr);
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

// The no-op provider has no state: its tracers are NoopTracer().
TracerProvider* NoopTracerProvider() {
  static TracerProvider* p = new TracerProvider(nullptr);
  return p;
}

TracerProvider::~TracerProvider() {
  if (state_) (void)state_->Shutdown(absl::Now() + absl::Seconds(5));
}

Tracer* TracerProvider::GetTracer(std::string_view name, std::string_view version,
                                  std::string_view schema_url, Attributes attributes) {
  if (!state_) return NoopTracer();
  return state_->GetTracer(name, version, schema_url, std::move(attributes));
}

absl::Status TracerProvider::ForceFlush(absl::Time deadline) {
  return state_ ? state_->ForceFlush(deadline) : absl::OkStatus();
}

absl::Status TracerProvider::Shutdown(absl::Time deadline) {
  return state_ ? state_->Shutdown(deadline) : absl::OkStatus();
}

std::vector<SelfMetricPoint> TracerProvider::SelfMetrics() const {
  std::vector<SelfMetricPoint> out;
  if (!state_) return out;
  // otel.sdk.span.started by sampling result and parent origin (a point
  // for each pair seen); otel.sdk.span.live: the recording spans
  // (RECORD_ONLY, RECORD_AND_SAMPLE) not yet ended.
  using C = sdk::SpanCounters;
  const auto n = state_->span_counts().Totals();
  static const char* const kResult[] = {"DROP", "RECORD_ONLY", "RECORD_AND_SAMPLE"};
  static const char* const kOrigin[] = {"none", "local", "remote"};
  int64_t started[3] = {0, 0, 0};
  for (int s = 0; s < 3; ++s) {
    for (int o = 0; o < 3; ++o) {
      const int64_t v = n[C::Started(static_cast<C::Sampling>(s), static_cast<C::ParentOrigin>(o))];
      started[s] += v;
      if (v == 0) continue;
      out.push_back(SelfMetricPoint{
          "otel.sdk.span.started",
          "{span}",
          {{"otel.span.sampling_result", kResult[s]}, {"otel.span.parent.origin", kOrigin[o]}},
          static_cast<double>(v),
          true});
    }
  }
  auto live = [&out](const char* result, int64_t v) {
    out.push_back(SelfMetricPoint{"otel.sdk.span.live",
                                  "{span}",
                                  {{"otel.span.sampling_result", result}},
                                  static_cast<double>(v),
                                  false});
  };
  live("RECORD_ONLY", started[C::kRecordOnly] - n[C::kEndedRecordOnly]);
  live("RECORD_AND_SAMPLE", started[C::kSampled] - n[C::kEndedSampled]);
  for (const auto& p : state_->processors()) {
    std::vector<SelfMetricPoint> more = p->SelfMetrics();
    out.insert(out.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  }
  return out;
}

const Resource& TracerProvider::resource() const {
  static const Resource* empty = new Resource();
  return state_ ? state_->resource() : *empty;
}

}  // namespace tracewire
