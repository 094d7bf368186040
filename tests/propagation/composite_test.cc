// The composite propagator, the OTEL_PROPAGATORS factory, the example custom
// propagator, and the per-thread context stack.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../../examples/custom_propagator/custom_propagator.h"
#include "propagation/map_carrier.h"
#include "tracewire/context.h"
#include "tracewire/propagation.h"

namespace tracewire {
namespace {

constexpr char kTraceParent[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

SpanContext MakeSpanContext(uint8_t seed) {
  SpanContext sc;
  for (size_t i = 0; i < sc.trace_id.size(); ++i) sc.trace_id[i] = static_cast<uint8_t>(seed + i);
  for (size_t i = 0; i < sc.span_id.size(); ++i)
    sc.span_id[i] = static_cast<uint8_t>(seed + 100 + i);
  sc.trace_flags = kTraceFlagSampled;
  return sc;
}

// Appends its name to the "order" header on inject and to the "order"
// baggage entry on extract, to observe call order.
class RecordingPropagator final : public TextMapPropagator {
 public:
  explicit RecordingPropagator(std::string name) : name_(std::move(name)) {}
  void Inject(TextMapCarrier& carrier, const Context&) const override {
    carrier.Set("order", std::string(carrier.Get("order").value_or("")) + name_);
  }
  Context Extract(const TextMapCarrier&, const Context& context) const override {
    return context.WithBaggage(
        context.baggage().Set("order", context.baggage().Get("order").value_or("") + name_));
  }
  std::vector<std::string> Fields() const override { return {"order", name_}; }

 private:
  std::string name_;
};

std::unique_ptr<TextMapPropagator> Recording(const char* name) {
  return std::make_unique<RecordingPropagator>(name);
}

std::unique_ptr<TextMapPropagator> FromEnv(std::string_view value) {
  absl::StatusOr<std::unique_ptr<TextMapPropagator>> p = MakePropagatorsFromEnvValue(value);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

// --- composite ------------------------------------------------------------

TEST(CompositePropagator, InjectsAndExtractsInOrder) {
  std::vector<std::unique_ptr<TextMapPropagator>> list;
  list.push_back(Recording("a"));
  list.push_back(Recording("b"));
  list.push_back(Recording("c"));
  auto p = MakeCompositePropagator(std::move(list));
  MapCarrier carrier;
  p->Inject(carrier, Context());
  EXPECT_EQ(carrier.headers().at("order"), "abc");
  EXPECT_EQ(p->Extract(carrier, Context()).baggage().Get("order"), "abc");
  EXPECT_EQ(p->Fields(), (std::vector<std::string>{"order", "a", "b", "c"}));
}

TEST(CompositePropagator, EmptyCompositeDoesNothing) {
  auto p = MakeCompositePropagator({});
  const Context c = Context().WithSpanContext(MakeSpanContext(1));
  MapCarrier carrier{{"traceparent", kTraceParent}};
  p->Inject(carrier, c);
  EXPECT_EQ(carrier.headers().size(), 1u);
  EXPECT_EQ(p->Extract(carrier, c), c);
  EXPECT_TRUE(p->Fields().empty());
}

TEST(CompositePropagator, TraceContextAndBaggageRoundTrip) {
  std::vector<std::unique_ptr<TextMapPropagator>> list;
  list.push_back(MakeTraceContextPropagator());
  list.push_back(MakeBaggagePropagator());
  auto p = MakeCompositePropagator(std::move(list));
  const Context c =
      Context().WithSpanContext(MakeSpanContext(7)).WithBaggage(Baggage().Set("user", "a b"));
  MapCarrier carrier;
  p->Inject(carrier, c);
  EXPECT_EQ(carrier.Keys(), (std::vector<std::string>{"baggage", "traceparent"}));
  const Context out = p->Extract(carrier, Context());
  EXPECT_EQ(out.baggage(), c.baggage());
  SpanContext expected = c.span_context();
  expected.is_remote = true;
  EXPECT_EQ(out.span_context(), expected);
}

TEST(CompositePropagator, LaterPropagatorWinsOnExtract) {
  std::vector<std::unique_ptr<TextMapPropagator>> list;
  list.push_back(MakeTraceContextPropagator());
  list.push_back(MakeB3Propagator(true));
  auto p = MakeCompositePropagator(std::move(list));
  MapCarrier carrier{{"traceparent", kTraceParent},
                     {"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0"}};
  const SpanContext sc = p->Extract(carrier, Context()).span_context();
  EXPECT_EQ(sc.span_id, (SpanId{0xe4, 0x57, 0xb5, 0xa2, 0xe4, 0xd8, 0x6b, 0xd1}));
  // Only the traceparent: the B3 propagator finds nothing and keeps it.
  EXPECT_EQ(p->Extract(MapCarrier{{"traceparent", kTraceParent}}, Context()).span_context().span_id,
            (SpanId{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31}));
}

// --- OTEL_PROPAGATORS -----------------------------------------------------

TEST(CompositePropagator, EnvDefaultIsTraceContextAndBaggage) {
  const std::vector<std::string> expected = {"traceparent", "tracestate", "baggage"};
  EXPECT_EQ(FromEnv("")->Fields(), expected);
  EXPECT_EQ(FromEnv(" \t ")->Fields(), expected);
  EXPECT_EQ(FromEnv("tracecontext,baggage")->Fields(), expected);
}

TEST(CompositePropagator, EnvParsesNamesWithWhitespaceAndCase) {
  EXPECT_EQ(FromEnv(" baggage , tracecontext ")->Fields(),
            (std::vector<std::string>{"baggage", "traceparent", "tracestate"}));
  EXPECT_EQ(FromEnv("TraceContext")->Fields(),
            (std::vector<std::string>{"traceparent", "tracestate"}));
  EXPECT_EQ(FromEnv("b3")->Fields().front(), "b3");
  EXPECT_EQ(FromEnv("b3multi")->Fields().front(), "x-b3-traceid");
  // Empty items are skipped and repeats count once.
  EXPECT_EQ(FromEnv("baggage,,baggage, ")->Fields(), (std::vector<std::string>{"baggage"}));
}

TEST(CompositePropagator, EnvB3InjectsTheChosenFormat) {
  const Context c = Context().WithSpanContext(MakeSpanContext(3));
  MapCarrier single, multi;
  FromEnv("b3")->Inject(single, c);
  FromEnv("b3multi")->Inject(multi, c);
  EXPECT_EQ(single.Keys(), (std::vector<std::string>{"b3"}));
  EXPECT_EQ(multi.Keys(),
            (std::vector<std::string>{"x-b3-sampled", "x-b3-spanid", "x-b3-traceid"}));
}

TEST(CompositePropagator, EnvNoneDoesNothing) {
  auto p = FromEnv("none");
  const Context c =
      Context().WithSpanContext(MakeSpanContext(5)).WithBaggage(Baggage().Set("k", "v"));
  MapCarrier carrier;
  p->Inject(carrier, c);
  EXPECT_TRUE(carrier.headers().empty());
  EXPECT_EQ(p->Extract(MapCarrier{{"traceparent", kTraceParent}, {"baggage", "a=1"}}, Context()),
            Context());
  EXPECT_TRUE(p->Fields().empty());
}

TEST(CompositePropagator, EnvUnknownNameIsInvalidArgument) {
  for (const auto& [value, name] : std::initializer_list<std::pair<const char*, const char*>>{
           {"xray", "xray"},
           {"tracecontext, jaeger ", "jaeger"},
           {"tracecontext;baggage", "tracecontext;baggage"}}) {
    absl::StatusOr<std::unique_ptr<TextMapPropagator>> p = MakePropagatorsFromEnvValue(value);
    ASSERT_FALSE(p.ok()) << value;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message(),
              std::string("OTEL_PROPAGATORS: unknown propagator '") + name + "'");
  }
}

// --- the example custom propagator ----------------------------------------

TEST(CustomPropagatorExample, InjectsAndExtracts) {
  example::CustomPropagator p;
  const SpanContext sc = MakeSpanContext(0xa0);
  MapCarrier carrier;
  p.Inject(carrier, Context().WithSpanContext(sc));
  EXPECT_EQ(carrier.headers().at("x-custom-trace-id"), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  EXPECT_EQ(carrier.headers().at("x-custom-span-id"), "0405060708090a0b");
  SpanContext expected = sc;
  expected.is_remote = true;
  EXPECT_EQ(p.Extract(carrier, Context()).span_context(), expected);
}

TEST(CustomPropagatorExample, IgnoresMissingOrMalformedHeaders) {
  example::CustomPropagator p;
  const Context before = Context().WithBaggage(Baggage().Set("k", "v"));
  for (const MapCarrier& c : {
           MapCarrier{{"x-custom-trace-id", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"}},
           MapCarrier{{"x-custom-trace-id", "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"},
                      {"x-custom-span-id", "0405060708090a0b"}},
           MapCarrier{{"x-custom-trace-id", "a0a1a2a3a4a5a6a7"},
                      {"x-custom-span-id", "0405060708090a0b"}},
           MapCarrier{{"x-custom-trace-id", "00000000000000000000000000000000"},
                      {"x-custom-span-id", "0405060708090a0b"}},
       }) {
    EXPECT_EQ(p.Extract(c, before), before);
  }
  MapCarrier out;
  p.Inject(out, Context());
  EXPECT_TRUE(out.headers().empty());
}

// --- context stack --------------------------------------------------------

TEST(ContextStack, EmptyByDefault) { EXPECT_EQ(Context::Current(), Context()); }

TEST(ContextStack, NestedScopesRestoreThePreviousContext) {
  const Context a = Context().WithSpanContext(MakeSpanContext(1));
  const Context b = a.WithBaggage(Baggage().Set("k", "v"));
  {
    Context::Scope sa = a.Attach();
    EXPECT_EQ(Context::Current(), a);
    {
      Context::Scope sb = b.Attach();
      EXPECT_EQ(Context::Current(), b);
      {
        Context::Scope again = a.Attach();
        EXPECT_EQ(Context::Current(), a);
      }
      EXPECT_EQ(Context::Current(), b);
    }
    EXPECT_EQ(Context::Current(), a);
  }
  EXPECT_EQ(Context::Current(), Context());
}

TEST(ContextStack, MovedScopePopsOnce) {
  const Context a = Context().WithSpanContext(MakeSpanContext(1));
  const Context b = Context().WithSpanContext(MakeSpanContext(2));
  Context::Scope sa = a.Attach();
  {
    std::optional<Context::Scope> holder;
    {
      Context::Scope sb = b.Attach();
      holder.emplace(std::move(sb));
    }  // the moved-from scope ends: nothing popped
    EXPECT_EQ(Context::Current(), b);
  }
  EXPECT_EQ(Context::Current(), a);
}

TEST(ContextStack, AttachedContextIsACopy) {
  Context c = Context().WithSpanContext(MakeSpanContext(1));
  const Context original = c;
  Context::Scope s = c.Attach();
  c = Context();
  EXPECT_EQ(Context::Current(), original);
}

TEST(ContextStack, EachThreadHasItsOwnStack) {
  const Context main_ctx = Context().WithSpanContext(MakeSpanContext(1));
  const Context thread_ctx = Context().WithSpanContext(MakeSpanContext(2));
  Context::Scope s = main_ctx.Attach();
  Context seen_at_start, seen_attached, seen_after;
  std::thread t([&] {
    seen_at_start = Context::Current();
    {
      Context::Scope ts = thread_ctx.Attach();
      seen_attached = Context::Current();
    }
    seen_after = Context::Current();
  });
  t.join();
  EXPECT_EQ(seen_at_start, Context());
  EXPECT_EQ(seen_attached, thread_ctx);
  EXPECT_EQ(seen_after, Context());
  EXPECT_EQ(Context::Current(), main_ctx);
}

}  // namespace
}  // namespace tracewire
