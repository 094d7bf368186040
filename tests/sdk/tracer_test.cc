#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "absl/synchronization/notification.h"
#include "tracewire/span_exporter.h"
#include "tracewire/trace.h"

namespace tracewire {
namespace {

// A provider with a simple processor into an in-memory exporter.
struct Harness {
  InMemorySpanExporter* exporter = nullptr;
  std::unique_ptr<TracerProvider> provider;

  explicit Harness(TracerProviderOptions o = {}) {
    auto e = std::make_unique<InMemorySpanExporter>();
    exporter = e.get();
    o.processors.push_back(MakeSimpleSpanProcessor(std::move(e)));
    provider = std::move(*TracerProvider::Create(std::move(o)));
  }
  std::vector<InMemorySpanExporter::FinishedSpan> spans() { return exporter->spans(); }
};

TEST(Tracer, RecordsEveryField) {
  TracerProviderOptions o;
  o.resource.attributes = {{"service.name", "svc"}};
  Harness h(std::move(o));
  Tracer* t = h.provider->GetTracer("lib", "1.0", "https://schema", {{"scope.attr", true}});
  EXPECT_EQ(t, h.provider->GetTracer("lib", "1.0", "https://schema", {{"scope.attr", true}}));
  SpanContext linked;
  linked.trace_id.fill(7);
  linked.span_id.fill(8);
  StartSpanOptions so;
  so.kind = SpanKind::kServer;
  so.attributes = {{"start.attr", int64_t{1}}};
  so.start_time_unix_nano = 1000;
  Span span = t->StartSpan("first", so);
  ASSERT_TRUE(span.IsRecording());
  span.SetAttribute("s", "v");
  span.SetAttribute("i", int64_t{42});
  span.SetAttribute("d", 0.5);
  span.SetAttribute("b", true);
  span.SetAttribute("bytes", Bytes{std::string("\x00\x01", 2)});
  span.SetAttribute("arr", AnyValue::Array{AnyValue("a"), AnyValue(int64_t{2})});
  span.SetAttribute("s", "replaced");
  span.AddEvent("evt", {{"k", "v"}}, 1500);
  span.AddLink(linked, {{"l", "x"}});
  span.RecordException("std::runtime_error", "boom", "frame0\nframe1");
  span.UpdateName("renamed");
  span.SetStatus(StatusCode::kError, "bad");
  span.End(2000);
  span.End(3000);  // a second End does nothing
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& d = spans[0].data;
  EXPECT_EQ(d.name, "renamed");
  EXPECT_EQ(d.kind, SpanKind::kServer);
  EXPECT_EQ(d.start_time_unix_nano, 1000u);
  EXPECT_EQ(d.end_time_unix_nano, 2000u);
  ASSERT_EQ(d.attributes.size(), 7u);
  EXPECT_EQ(d.attributes[0], (KeyValue{"start.attr", int64_t{1}}));
  EXPECT_EQ(d.attributes[1], (KeyValue{"s", "replaced"}));
  EXPECT_EQ(d.attributes[5], (KeyValue{"bytes", Bytes{std::string("\x00\x01", 2)}}));
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(d.events[0].name, "evt");
  EXPECT_EQ(d.events[0].time_unix_nano, 1500u);
  EXPECT_EQ(d.events[1].name, "exception");
  EXPECT_EQ(d.events[1].attributes, (Attributes{{"exception.type", "std::runtime_error"},
                                                {"exception.message", "boom"},
                                                {"exception.stacktrace", "frame0\nframe1"}}));
  ASSERT_EQ(d.links.size(), 1u);
  EXPECT_EQ(d.links[0].trace_id, linked.trace_id);
  EXPECT_EQ(d.status_code, StatusCode::kError);
  EXPECT_EQ(d.status_message, "bad");
  EXPECT_FALSE(d.parent_span_id.has_value());
  EXPECT_EQ(d.flags & 0xff, kTraceFlagSampled);
  EXPECT_EQ(spans[0].scope.name, "lib");
  EXPECT_EQ(spans[0].scope.schema_url, "https://schema");
  bool has_service = false, has_sdk = false;
  for (const auto& kv : spans[0].resource.attributes) {
    has_service |= kv == KeyValue{"service.name", "svc"};
    has_sdk |= kv == KeyValue{"telemetry.sdk.name", "tracewire"};
  }
  EXPECT_TRUE(has_service);
  EXPECT_TRUE(has_sdk);
}

TEST(Tracer, ParentAndChildThroughTheCurrentContext) {
  Harness h;
  Tracer* t = h.provider->GetTracer("lib");
  SpanContext parent_ctx;
  {
    ScopedSpan parent(*t, "parent");
    parent_ctx = parent->GetContext();
    Span child = t->StartSpan("child");
    EXPECT_EQ(child.GetContext().trace_id, parent_ctx.trace_id);
    child.End();
    // Explicit parent for async code:
    StartSpanOptions o;
    o.parent = Context().WithSpanContext(parent_ctx);
    std::thread([&] { t->StartSpan("async", o).End(); }).join();
  }
  Span root = t->StartSpan("after");  // the scope ended: a new root
  EXPECT_NE(root.GetContext().trace_id, parent_ctx.trace_id);
  root.End();
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].data.name, "child");
  EXPECT_EQ(spans[0].data.parent_span_id, parent_ctx.span_id);
  EXPECT_EQ(spans[1].data.name, "async");
  EXPECT_EQ(spans[1].data.parent_span_id, parent_ctx.span_id);
  EXPECT_EQ(spans[2].data.name, "parent");
  EXPECT_FALSE(spans[3].data.parent_span_id.has_value());
}

// StartSpan with only a kind: the current context is the parent, and a
// user's sampler is asked with that kind and no attributes, and may add some.
TEST(Tracer, StartSpanWithOnlyAKind) {
  struct Seen {
    SpanKind kind = SpanKind::kInternal;
    size_t attributes = 99;
  };
  class KindSampler : public Sampler {
   public:
    explicit KindSampler(Seen* seen) : seen_(seen) {}
    SamplingResult ShouldSample(const SpanContext&, const TraceId&, std::string_view, SpanKind kind,
                                const Attributes& attributes) const override {
      seen_->kind = kind;
      seen_->attributes = attributes.size();
      return {SamplingDecision::kRecordAndSample, {{"sampler.said", int64_t{7}}}};
    }
    std::string Description() const override { return "KindSampler"; }

   private:
    Seen* seen_;
  };
  Seen seen;
  TracerProviderOptions po;
  po.sampler = std::make_shared<KindSampler>(&seen);
  Harness h(std::move(po));
  Tracer* t = h.provider->GetTracer("lib");
  SpanContext parent_ctx;
  {
    ScopedSpan parent(*t, "parent", SpanKind::kServer);
    parent_ctx = parent->GetContext();
    EXPECT_EQ(seen.kind, SpanKind::kServer);
    Span child = t->StartSpan("child", SpanKind::kClient);
    EXPECT_EQ(seen.kind, SpanKind::kClient);
    EXPECT_EQ(seen.attributes, 0u);
    child.SetAttribute("k", "v");
  }
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 2u);
  const SpanData& c = spans[0].data;
  EXPECT_EQ(c.name, "child");
  EXPECT_EQ(c.kind, SpanKind::kClient);
  EXPECT_EQ(c.trace_id, parent_ctx.trace_id);
  EXPECT_EQ(c.parent_span_id, parent_ctx.span_id);
  ASSERT_EQ(c.attributes.size(), 2u);
  EXPECT_EQ(c.attributes[0].key, "sampler.said");
  EXPECT_EQ(c.attributes[1].key, "k");
  EXPECT_EQ(spans[1].data.kind, SpanKind::kServer);
}

TEST(Tracer, RemoteParentKeepsTraceStateAndFlags) {
  Harness h;
  SpanContext remote;
  remote.trace_id.fill(0xab);
  remote.span_id.fill(0xcd);
  remote.trace_flags = kTraceFlagSampled;
  remote.trace_state = "vendor=1";
  remote.is_remote = true;
  StartSpanOptions o;
  o.parent = Context().WithSpanContext(remote);
  Span s = h.provider->GetTracer("x")->StartSpan("server", o);
  EXPECT_EQ(s.GetContext().trace_state, "vendor=1");
  s.End();
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& d = spans[0].data;
  EXPECT_EQ(d.trace_id, remote.trace_id);
  EXPECT_EQ(d.trace_state, "vendor=1");
  EXPECT_EQ(d.flags, 0x301u);  // sampled, has-is-remote, is-remote
}

TEST(Tracer, SamplerDecidesRecording) {
  TracerProviderOptions o;
  o.sampler = MakeAlwaysOffSampler();
  Harness h(std::move(o));
  Span s = h.provider->GetTracer("x")->StartSpan("dropped");
  EXPECT_FALSE(s.IsRecording());
  EXPECT_TRUE(s.GetContext().IsValid());  // still propagates
  EXPECT_FALSE(s.GetContext().IsSampled());
  s.SetAttribute("ignored", 1);
  s.End();
  EXPECT_TRUE(h.spans().empty());
}

// A remote parent with the given sampled flag.
Context RemoteParent(bool sampled) {
  SpanContext remote;
  remote.trace_id.fill(0x11);
  remote.span_id.fill(0x22);
  remote.trace_flags = sampled ? kTraceFlagSampled : 0;
  remote.is_remote = true;
  return Context().WithSpanContext(remote);
}

// The default sampler, ParentBased(AlwaysOn), decided by the provider
// without asking it: roots and children of sampled parents record, children
// of unsampled parents do not (and keep the parent's trace id).
TEST(Tracer, ParentBasedAlwaysOnFollowsTheParent) {
  Harness h;  // TracerProviderOptions' default sampler
  Tracer* t = h.provider->GetTracer("x");
  Span root = t->StartSpan("root");
  EXPECT_TRUE(root.IsRecording());
  EXPECT_TRUE(root.GetContext().IsSampled());
  StartSpanOptions o;
  o.parent = RemoteParent(false);
  Span unsampled = t->StartSpan("child of unsampled", o);
  EXPECT_FALSE(unsampled.IsRecording());
  EXPECT_FALSE(unsampled.GetContext().IsSampled());
  EXPECT_EQ(unsampled.GetContext().trace_id, o.parent->span_context().trace_id);
  o.parent = RemoteParent(true);
  Span sampled = t->StartSpan("child of sampled", o);
  EXPECT_TRUE(sampled.IsRecording());
  EXPECT_EQ(sampled.GetContext().trace_id, o.parent->span_context().trace_id);
  EXPECT_NE(sampled.GetContext().span_id, o.parent->span_context().span_id);
}

// ParentBased with delegates of its own is asked (not decided as the default
// one would be).
TEST(Tracer, ParentBasedWithOtherDelegatesIsAsked) {
  TracerProviderOptions po;
  ParentBasedOptions pb;
  pb.remote_parent_not_sampled = MakeAlwaysOnSampler();
  po.sampler = MakeParentBasedSampler(MakeAlwaysOnSampler(), pb);
  Harness h(std::move(po));
  StartSpanOptions o;
  o.parent = RemoteParent(false);
  Span s = h.provider->GetTracer("x")->StartSpan("child of unsampled", o);
  EXPECT_TRUE(s.IsRecording());
  po = {};
  po.sampler = MakeParentBasedSampler(MakeAlwaysOffSampler());
  Harness off(std::move(po));
  EXPECT_FALSE(off.provider->GetTracer("x")->StartSpan("root").IsRecording());
}

// A user's id generator is used for both ids.
TEST(Tracer, AUsersIdGeneratorIsUsed) {
  class Fixed : public IdGenerator {
   public:
    TraceId NewTraceId() override {
      TraceId id;
      id.fill(0x5a);
      return id;
    }
    SpanId NewSpanId() override {
      SpanId id;
      id.fill(static_cast<uint8_t>(++n_));
      return id;
    }

   private:
    int n_ = 0;
  };
  TracerProviderOptions po;
  po.id_generator = std::make_unique<Fixed>();
  Harness h(std::move(po));
  Tracer* t = h.provider->GetTracer("x");
  Span root = t->StartSpan("root");
  TraceId want_trace;
  want_trace.fill(0x5a);
  SpanId want_span;
  want_span.fill(1);
  EXPECT_EQ(root.GetContext().trace_id, want_trace);
  EXPECT_EQ(root.GetContext().span_id, want_span);
  StartSpanOptions o;
  o.parent = RemoteParent(true);
  Span child = t->StartSpan("child", o);
  want_span.fill(2);
  EXPECT_EQ(child.GetContext().trace_id, o.parent->span_context().trace_id);
  EXPECT_EQ(child.GetContext().span_id, want_span);
}

TEST(Tracer, LimitsDropAndCount) {
  TracerProviderOptions o;
  o.limits.attribute_count = 2;
  o.limits.attribute_value_length = 4;
  o.limits.event_count = 1;
  o.limits.link_count = 1;
  o.limits.attributes_per_event = 1;
  o.limits.attributes_per_link = 0;
  Harness h(std::move(o));
  Span s = h.provider->GetTracer("x")->StartSpan("limited");
  s.SetAttribute("a", "0123456789");
  s.SetAttribute("b", AnyValue::Array{AnyValue("abcdefgh")});
  s.SetAttribute("c", 1);
  s.SetAttribute("d", 2);
  s.AddEvent("e1", {{"x", 1}, {"y", 2}});
  s.AddEvent("e2");
  SpanContext lc;
  lc.trace_id.fill(1);
  lc.span_id.fill(1);
  s.AddLink(lc, {{"z", 1}});
  s.AddLink(lc);
  s.End();
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& d = spans[0].data;
  EXPECT_EQ(d.attributes.size(), 2u);
  EXPECT_EQ(d.attributes[0], (KeyValue{"a", "0123"}));
  EXPECT_EQ(d.attributes[1], (KeyValue{"b", AnyValue::Array{AnyValue("abcd")}}));
  EXPECT_EQ(d.dropped_attributes_count, 2u);
  EXPECT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.dropped_events_count, 1u);
  EXPECT_EQ(d.events[0].dropped_attributes_count, 1u);
  EXPECT_EQ(d.links.size(), 1u);
  EXPECT_EQ(d.dropped_links_count, 1u);
  EXPECT_EQ(d.links[0].dropped_attributes_count, 1u);
}

// Span storage is pooled and reused, and unchanged keys and values are not
// copied again: a span must hold exactly what was set on it, nothing of the
// span that used the storage before.
TEST(Tracer, ReusedSpanStorageKeepsNothingOfTheLastSpan) {
  Harness h;
  Tracer* t = h.provider->GetTracer("x");
  SpanContext lc;
  lc.trace_id.fill(1);
  lc.span_id.fill(1);
  for (int round = 0; round < 3; ++round) {
    Span a = t->StartSpan("a");
    a.SetAttribute("k1", "a value longer than the short-string buffer");
    a.SetAttribute("k2", 5);
    a.SetAttribute("ab", 1);
    a.SetAttribute("cb", 2);  // same length and last byte as "ab": same key bit
    a.SetAttribute("ab", 3);  // replaces
    a.AddEvent("e", {{"x", "1"}, {"y", 2}});
    a.AddEvent("f");
    a.AddLink(lc);
    a.SetStatus(StatusCode::kError, "bad");
    a.End();
    Span b = t->StartSpan("b");
    b.SetAttribute("k2", "now a string");
    b.AddEvent("e", {{"x", "2"}});
    b.End();
  }
  const auto spans = h.spans();
  ASSERT_EQ(spans.size(), 6u);
  for (size_t i = 0; i < spans.size(); i += 2) {
    const SpanData& a = spans[i].data;
    EXPECT_EQ(a.attributes, (Attributes{{"k1", "a value longer than the short-string buffer"},
                                        {"k2", 5},
                                        {"ab", 3},
                                        {"cb", 2}}));
    ASSERT_EQ(a.events.size(), 2u);
    EXPECT_EQ(a.events[0].attributes, (Attributes{{"x", "1"}, {"y", 2}}));
    EXPECT_TRUE(a.events[1].attributes.empty());
    EXPECT_EQ(a.links.size(), 1u);
    EXPECT_EQ(a.status_code, StatusCode::kError);
    const SpanData& b = spans[i + 1].data;
    EXPECT_EQ(b.name, "b");
    EXPECT_EQ(b.attributes, (Attributes{{"k2", "now a string"}}));
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].name, "e");
    EXPECT_EQ(b.events[0].attributes, (Attributes{{"x", "2"}}));
    EXPECT_TRUE(b.links.empty());
    EXPECT_EQ(b.status_code, StatusCode::kUnset);
    EXPECT_EQ(b.status_message, "");
    EXPECT_EQ(b.dropped_attributes_count + b.dropped_events_count + b.dropped_links_count, 0u);
  }
}

TEST(Tracer, StatusOkIsFinal) {
  Harness h;
  Span s = h.provider->GetTracer("x")->StartSpan("st");
  s.SetStatus(StatusCode::kOk, "ignored description");
  s.SetStatus(StatusCode::kError, "too late");
  s.End();
  EXPECT_EQ(h.spans()[0].data.status_code, StatusCode::kOk);
  EXPECT_EQ(h.spans()[0].data.status_message, "");
}

TEST(Tracer, NoopTracerAndShutdownProviderRecordNothing) {
  Span s = NoopTracer()->StartSpan("nothing");
  EXPECT_FALSE(s.IsRecording());
  EXPECT_FALSE(s.GetContext().IsValid());
  Harness h;
  ASSERT_TRUE(h.provider->Shutdown(absl::Now() + absl::Seconds(1)).ok());
  EXPECT_FALSE(h.provider->GetTracer("x")->StartSpan("late").IsRecording());
}

TEST(Tracer, SpansFromManyThreadsHaveUniqueIds) {
  Harness h;
  Tracer* t = h.provider->GetTracer("x");
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([t] {
      for (int j = 0; j < 500; ++j) t->StartSpan("s").End();
    });
  }
  for (auto& th : threads) th.join();
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 2000u);
  std::set<SpanId> ids;
  for (const auto& s : spans) ids.insert(s.data.span_id);
  EXPECT_EQ(ids.size(), 2000u);
}

}  // namespace
}  // namespace tracewire

namespace tracewire {
namespace {

class CountingProcessor : public SpanProcessor {
 public:
  void OnEnd(SpanRef span) override { ++ended; }
  absl::Status ForceFlush(absl::Time) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Time) override { return absl::OkStatus(); }
  int ended = 0;
};

class RecordOnlySampler : public Sampler {
 public:
  SamplingResult ShouldSample(const SpanContext&, const TraceId&, std::string_view, SpanKind,
                              const Attributes&) const override {
    return {SamplingDecision::kRecordOnly, {{"sampler.attr", true}}};
  }
  std::string Description() const override { return "RecordOnly"; }
};

TEST(Tracer, RecordOnlySpansReachOnEndButAreNotExported) {
  auto exporter = std::make_unique<InMemorySpanExporter>();
  InMemorySpanExporter* mem = exporter.get();
  auto counting = std::make_unique<CountingProcessor>();
  CountingProcessor* count = counting.get();
  TracerProviderOptions o;
  o.sampler = std::make_shared<RecordOnlySampler>();
  o.processors.push_back(std::move(counting));
  o.processors.push_back(MakeSimpleSpanProcessor(std::move(exporter)));
  auto provider = std::move(*TracerProvider::Create(std::move(o)));
  Span s = provider->GetTracer("x")->StartSpan("recorded");
  EXPECT_TRUE(s.IsRecording());
  EXPECT_FALSE(s.GetContext().IsSampled());
  s.End();
  EXPECT_EQ(count->ended, 1);
  EXPECT_TRUE(mem->spans().empty());
}

// ---- CurrentSpan and Span::MakeCurrent ------------------------------------

// Instrumented code deep in a call stack: it knows no Span, only that it runs
// inside one.
void AnnotateCurrentSpan(std::string_view value) {
  SpanHandle span = CurrentSpan();
  span.SetAttribute("callee.value", value);
  span.SetAttribute("callee.count", 3);
  span.AddEvent("callee.event", {{"k", "v"}});
  span.SetStatus(StatusCode::kError, "callee failed");
  span.RecordException("std::runtime_error", "boom");
}

const SpanData* Find(const std::vector<InMemorySpanExporter::FinishedSpan>& spans,
                     std::string_view name) {
  for (const auto& s : spans) {
    if (s.data.name == name) return &s.data;
  }
  return nullptr;
}

bool HasAttribute(const SpanData& d, const KeyValue& kv) {
  for (const KeyValue& a : d.attributes) {
    if (a == kv) return true;
  }
  return false;
}

TEST(CurrentSpan, ReachesTheScopedSpanFromACalledFunction) {
  Harness h;
  Tracer* t = h.provider->GetTracer("lib");
  SpanContext ctx;
  {
    ScopedSpan span(*t, "request");
    ctx = span->GetContext();
    EXPECT_TRUE(CurrentSpan().IsRecording());
    EXPECT_EQ(CurrentSpan().GetContext(), span->GetContext());
    AnnotateCurrentSpan("from the callee");
  }
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& d = spans[0].data;
  EXPECT_EQ(d.span_id, ctx.span_id);
  EXPECT_TRUE(HasAttribute(d, {"callee.value", "from the callee"}));
  EXPECT_TRUE(HasAttribute(d, {"callee.count", int64_t{3}}));
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(d.events[0].name, "callee.event");
  EXPECT_EQ(d.events[1].name, "exception");
  EXPECT_EQ(d.status_code, StatusCode::kError);
  EXPECT_EQ(d.status_message, "callee failed");
}

TEST(CurrentSpan, ReachesASpanMadeCurrent) {
  Harness h;
  Tracer* t = h.provider->GetTracer("lib");
  Span span = t->StartSpan("manual");
  {
    Context::Scope scope = span.MakeCurrent();
    EXPECT_EQ(Context::Current().span_context(), span.GetContext());
    EXPECT_EQ(CurrentSpan().GetContext(), span.GetContext());
    AnnotateCurrentSpan("made current");
    Span child = t->StartSpan("child");  // the current span is the parent
    EXPECT_EQ(child.GetContext().trace_id, span.GetContext().trace_id);
    child.End();
  }
  EXPECT_FALSE(CurrentSpan().IsRecording());  // the scope ended
  CurrentSpan().SetAttribute("after.scope", true);
  span.End();
  auto spans = h.spans();
  const SpanData* manual = Find(spans, "manual");
  const SpanData* child = Find(spans, "child");
  ASSERT_NE(manual, nullptr);
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(HasAttribute(*manual, {"callee.value", "made current"}));
  EXPECT_FALSE(HasAttribute(*manual, {"after.scope", true}));
  EXPECT_EQ(child->parent_span_id, span.GetContext().span_id);
}

TEST(CurrentSpan, NestedScopesRestoreTheOuterSpan) {
  Harness h;
  Tracer* t = h.provider->GetTracer("lib");
  {
    ScopedSpan outer(*t, "outer");
    CurrentSpan().SetAttribute("where", "outer before");
    {
      ScopedSpan inner(*t, "inner");
      EXPECT_EQ(CurrentSpan().GetContext(), inner->GetContext());
      CurrentSpan().SetAttribute("where", "inner");
    }
    EXPECT_EQ(CurrentSpan().GetContext(), outer->GetContext());
    CurrentSpan().SetAttribute("after", "inner ended");
  }
  auto spans = h.spans();
  const SpanData* outer = Find(spans, "outer");
  const SpanData* inner = Find(spans, "inner");
  ASSERT_NE(outer, nullptr);
  ASSERT_NE(inner, nullptr);
  EXPECT_TRUE(HasAttribute(*outer, {"where", "outer before"}));
  EXPECT_TRUE(HasAttribute(*outer, {"after", "inner ended"}));
  EXPECT_TRUE(HasAttribute(*inner, {"where", "inner"}));
  EXPECT_FALSE(HasAttribute(*inner, {"after", "inner ended"}));
  EXPECT_EQ(inner->parent_span_id, outer->span_id);
}

TEST(CurrentSpan, WithoutACurrentSpanCallsDoNothing) {
  Harness h;
  SpanHandle none = CurrentSpan();
  EXPECT_FALSE(none.IsRecording());
  EXPECT_FALSE(none.GetContext().IsValid());
  AnnotateCurrentSpan("nobody");
  none.UpdateName("x");
  none.AddLink(SpanContext{});
  EXPECT_TRUE(h.spans().empty());
}

// A Context attached over a span's scope (a remote parent, say) has no Span:
// the handle is non-recording, with that context's SpanContext, and the span
// below it gets nothing.
TEST(CurrentSpan, AnAttachedContextHidesTheSpanBelow) {
  Harness h;
  Tracer* t = h.provider->GetTracer("lib");
  SpanContext remote;
  remote.trace_id.fill(1);
  remote.span_id.fill(2);
  remote.trace_flags = kTraceFlagSampled;
  remote.is_remote = true;
  {
    ScopedSpan span(*t, "local");
    {
      Context::Scope scope = Context().WithSpanContext(remote).Attach();
      EXPECT_FALSE(CurrentSpan().IsRecording());
      EXPECT_EQ(CurrentSpan().GetContext(), remote);
      CurrentSpan().SetAttribute("hidden", true);
    }
    EXPECT_TRUE(CurrentSpan().IsRecording());
    CurrentSpan().SetAttribute("visible", true);
  }
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_FALSE(HasAttribute(spans[0].data, {"hidden", true}));
  EXPECT_TRUE(HasAttribute(spans[0].data, {"visible", true}));
}

// Another thread sees none of this thread's spans; a Context handed to it
// carries the SpanContext only.
TEST(CurrentSpan, IsPerThreadAndContextCopiesCarryOnlyTheSpanContext) {
  Harness h;
  Tracer* t = h.provider->GetTracer("lib");
  {
    ScopedSpan span(*t, "local");
    const Context handed = Context::Current();
    bool other_recording = true;
    bool attached_recording = true;
    SpanContext attached_context;
    std::thread([&] {
      other_recording = CurrentSpan().IsRecording();
      CurrentSpan().SetAttribute("other.thread", true);
      Context::Scope scope = handed.Attach();
      attached_recording = CurrentSpan().IsRecording();
      attached_context = CurrentSpan().GetContext();
      CurrentSpan().SetAttribute("other.thread.attached", true);
    }).join();
    EXPECT_FALSE(other_recording);
    EXPECT_FALSE(attached_recording);
    EXPECT_EQ(attached_context, span->GetContext());
  }
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_TRUE(spans[0].data.attributes.empty());
}

// A span ended before its scope: the handle's calls do nothing.
TEST(CurrentSpan, AfterTheSpanEndedCallsDoNothing) {
  Harness h;
  Tracer* t = h.provider->GetTracer("lib");
  {
    ScopedSpan span(*t, "ended early");
    span->End();
    EXPECT_FALSE(CurrentSpan().IsRecording());
    EXPECT_EQ(CurrentSpan().GetContext(), span->GetContext());
    CurrentSpan().SetAttribute("late", true);
  }
  auto spans = h.spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_TRUE(spans[0].data.attributes.empty());
}

TEST(BatchSpanProcessorSelfMetrics, SemanticConventionNames) {
  BatchSpanProcessorStats st;
  st.processed = 10;
  st.dropped_queue_full = 3;
  st.queue_capacity = 2048;
  auto points = BatchSpanProcessorSelfMetrics(st);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[1].name, "otel.sdk.processor.span.processed");
  EXPECT_EQ(points[1].attributes.at("error.type"), "queue_full");
  EXPECT_EQ(points[1].value, 3);
  EXPECT_EQ(points[3].value, 2048);
}

}  // namespace
}  // namespace tracewire
