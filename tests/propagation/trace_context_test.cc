// W3C Trace Context propagator: the traceparent/tracestate parsing rules of
// https://www.w3.org/TR/trace-context/ and the cases of its test suite.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "propagation/map_carrier.h"
#include "tracewire/propagation.h"

namespace tracewire {
namespace {

constexpr char kTraceIdHex[] = "0af7651916cd43dd8448eb211c80319c";
constexpr char kSpanIdHex[] = "b7ad6b7169203331";
constexpr char kValid[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

template <size_t N>
std::array<uint8_t, N> IdFromHex(std::string_view hex) {
  std::array<uint8_t, N> id{};
  for (size_t i = 0; i < N; ++i)
    id[i] = static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  return id;
}

SpanContext ValidSpanContext() {
  SpanContext sc;
  sc.trace_id = IdFromHex<16>(kTraceIdHex);
  sc.span_id = IdFromHex<8>(kSpanIdHex);
  sc.trace_flags = kTraceFlagSampled;
  return sc;
}

std::string TraceParent(std::string_view version, std::string_view flags) {
  return std::string(version) + "-" + kTraceIdHex + "-" + kSpanIdHex + "-" + std::string(flags);
}

Context Extract(const MapCarrier& carrier, const Context& context = Context()) {
  return MakeTraceContextPropagator()->Extract(carrier, context);
}

// The span context extracted from one traceparent (invalid when refused).
SpanContext ExtractTraceParent(const std::string& traceparent) {
  return Extract(MapCarrier{{"traceparent", traceparent}}).span_context();
}

// The trace_state extracted with a valid traceparent.
std::string ExtractTraceState(const std::string& tracestate) {
  const SpanContext sc =
      Extract(MapCarrier{{"traceparent", kValid}, {"tracestate", tracestate}}).span_context();
  EXPECT_TRUE(sc.IsValid()) << "the traceparent must survive tracestate " << tracestate;
  return sc.trace_state;
}

// --- traceparent ----------------------------------------------------------

TEST(TraceContextPropagator, ExtractsValidTraceParent) {
  const SpanContext sc = ExtractTraceParent(kValid);
  ASSERT_TRUE(sc.IsValid());
  EXPECT_EQ(sc.trace_id, IdFromHex<16>(kTraceIdHex));
  EXPECT_EQ(sc.span_id, IdFromHex<8>(kSpanIdHex));
  EXPECT_EQ(sc.trace_flags, 0x01);
  EXPECT_TRUE(sc.IsSampled());
  EXPECT_TRUE(sc.is_remote);
  EXPECT_EQ(sc.trace_state, "");
}

TEST(TraceContextPropagator, ExtractsNotSampled) {
  const SpanContext sc = ExtractTraceParent(TraceParent("00", "00"));
  ASSERT_TRUE(sc.IsValid());
  EXPECT_FALSE(sc.IsSampled());
  EXPECT_TRUE(sc.is_remote);
}

TEST(TraceContextPropagator, PreservesUnknownFlagsOfVersion00) {
  EXPECT_EQ(ExtractTraceParent(TraceParent("00", "09")).trace_flags, 0x09);
  EXPECT_EQ(ExtractTraceParent(TraceParent("00", "02")).trace_flags, 0x02);
  EXPECT_EQ(ExtractTraceParent(TraceParent("00", "ff")).trace_flags, 0xff);

  MapCarrier out;
  MakeTraceContextPropagator()->Inject(
      out, Context().WithSpanContext(ExtractTraceParent(TraceParent("00", "09"))));
  EXPECT_EQ(out.headers().at("traceparent"), TraceParent("00", "09"));
}

TEST(TraceContextPropagator, IgnoresWhitespaceAroundTraceParent) {
  for (const std::string& v :
       {std::string(" ") + kValid, std::string("\t") + kValid, std::string(kValid) + " ",
        std::string(kValid) + "\t", std::string(" \t") + kValid + "\t "}) {
    EXPECT_TRUE(ExtractTraceParent(v).IsValid()) << "'" << v << "'";
  }
}

TEST(TraceContextPropagator, RejectsVersionFf) {
  EXPECT_FALSE(ExtractTraceParent(TraceParent("ff", "01")).IsValid());
  EXPECT_FALSE(ExtractTraceParent(TraceParent("ff", "01") + "-extra").IsValid());
}

TEST(TraceContextPropagator, RejectsMalformedVersion) {
  for (const char* version : {".0", "0.", "0A", "A0", "0g", "0", "000", "-0", " 0"}) {
    EXPECT_FALSE(ExtractTraceParent(TraceParent(version, "01")).IsValid()) << version;
  }
}

TEST(TraceContextPropagator, Version00MustBeExactly55Characters) {
  const std::string v = kValid;
  ASSERT_EQ(v.size(), 55u);
  EXPECT_FALSE(ExtractTraceParent(v.substr(0, 54)).IsValid());
  EXPECT_FALSE(ExtractTraceParent(v + "0").IsValid());
  EXPECT_FALSE(ExtractTraceParent(v + "-").IsValid());
  EXPECT_FALSE(ExtractTraceParent(v + "-what-the-future-will-be-like").IsValid());
  EXPECT_FALSE(ExtractTraceParent("").IsValid());
  EXPECT_FALSE(ExtractTraceParent("00").IsValid());
}

TEST(TraceContextPropagator, AcceptsFutureVersionWithExtraFields) {
  for (const std::string& v :
       {TraceParent("cc", "01"), TraceParent("cc", "01") + "-what-the-future-will-be-like",
        TraceParent("01", "01") + "-", TraceParent("fe", "01") + "-x-y"}) {
    const SpanContext sc = ExtractTraceParent(v);
    ASSERT_TRUE(sc.IsValid()) << v;
    EXPECT_EQ(sc.trace_id, IdFromHex<16>(kTraceIdHex));
    EXPECT_EQ(sc.span_id, IdFromHex<8>(kSpanIdHex));
    EXPECT_TRUE(sc.IsSampled());
    EXPECT_TRUE(sc.is_remote);
  }
  // Only the sampled bit of a future version's flags is read.
  EXPECT_EQ(ExtractTraceParent(TraceParent("cc", "09")).trace_flags, 0x01);
  EXPECT_EQ(ExtractTraceParent(TraceParent("cc", "08")).trace_flags, 0x00);
}

TEST(TraceContextPropagator, RejectsFutureVersionWithBadTail) {
  EXPECT_FALSE(
      ExtractTraceParent(TraceParent("cc", "01") + ".what-the-future-will-be-like").IsValid());
  EXPECT_FALSE(ExtractTraceParent(TraceParent("cc", "01") + "0").IsValid());
  EXPECT_FALSE(ExtractTraceParent(TraceParent("cc", "0")).IsValid());
  EXPECT_FALSE(ExtractTraceParent(TraceParent("cc", "011")).IsValid());
}

TEST(TraceContextPropagator, RejectsUppercaseHex) {
  EXPECT_FALSE(
      ExtractTraceParent("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01").IsValid());
  EXPECT_FALSE(
      ExtractTraceParent("00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01").IsValid());
  EXPECT_FALSE(ExtractTraceParent(TraceParent("00", "0A")).IsValid());
}

TEST(TraceContextPropagator, RejectsAllZeroIds) {
  EXPECT_FALSE(
      ExtractTraceParent("00-00000000000000000000000000000000-b7ad6b7169203331-01").IsValid());
  EXPECT_FALSE(
      ExtractTraceParent("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01").IsValid());
}

TEST(TraceContextPropagator, RejectsBadSeparators) {
  const std::string v = kValid;
  for (size_t pos : {2u, 35u, 52u}) {
    for (char c : {'_', '.', ' ', '0'}) {
      std::string bad = v;
      bad[pos] = c;
      EXPECT_FALSE(ExtractTraceParent(bad).IsValid()) << bad;
    }
  }
}

TEST(TraceContextPropagator, RejectsIllegalCharactersAndLengths) {
  for (const char* v : {
           "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",   // trace id
           "00-0af7651916cd43dd8448eb211c80319.-b7ad6b7169203331-01",   // trace id
           "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",    // trace id short
           "00-0af7651916cd43dd8448eb211c80319cc-b7ad6b7169203331-01",  // trace id long
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333z-01",   // parent id
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",    // parent id short
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033311-01",  // parent id long
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",   // flags
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-.0",   // flags
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",    // flags short
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-001",  // flags long
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",      // no flags
       }) {
    EXPECT_FALSE(ExtractTraceParent(v).IsValid()) << v;
  }
}

TEST(TraceContextPropagator, InvalidOrMissingTraceParentLeavesContextUnchanged) {
  SpanContext existing = ValidSpanContext();
  existing.span_id[0] ^= 0xff;
  const Context before = Context().WithSpanContext(existing).WithBaggage(Baggage().Set("k", "v"));
  EXPECT_EQ(
      Extract(MapCarrier{{"traceparent", TraceParent("ff", "01")}, {"tracestate", "a=1"}}, before),
      before);
  EXPECT_EQ(Extract(MapCarrier{{"tracestate", "a=1"}}, before), before);
  EXPECT_EQ(Extract(MapCarrier{}, before), before);
}

TEST(TraceContextPropagator, ExtractKeepsBaggageAndReplacesSpanContext) {
  const Context before = Context().WithBaggage(Baggage().Set("k", "v"));
  const Context after = Extract(MapCarrier{{"traceparent", kValid}}, before);
  EXPECT_EQ(after.baggage(), before.baggage());
  EXPECT_TRUE(after.span_context().IsValid());
}

// --- tracestate -----------------------------------------------------------

TEST(TraceContextPropagator, ExtractsTraceState) {
  EXPECT_EQ(ExtractTraceState("foo=1,bar=2"), "foo=1,bar=2");
  EXPECT_EQ(ExtractTraceState("congo=t61rcWkgMzE"), "congo=t61rcWkgMzE");
}

TEST(TraceContextPropagator, TraceStateAllowsWhitespaceAroundMembers) {
  EXPECT_EQ(ExtractTraceState("foo=1 \t , \t bar=2, \t baz=3"), "foo=1,bar=2,baz=3");
  EXPECT_EQ(ExtractTraceState(" foo=1"), "foo=1");
  EXPECT_EQ(ExtractTraceState("\tfoo=1"), "foo=1");
  EXPECT_EQ(ExtractTraceState("foo=1 "), "foo=1");
  EXPECT_EQ(ExtractTraceState("foo=1\t"), "foo=1");
  EXPECT_EQ(ExtractTraceState("\t foo=1 \t"), "foo=1");
}

TEST(TraceContextPropagator, TraceStateSkipsEmptyMembers) {
  EXPECT_EQ(ExtractTraceState("foo=1,,bar=2"), "foo=1,bar=2");
  EXPECT_EQ(ExtractTraceState(",foo=1, ,\t,bar=2,"), "foo=1,bar=2");
  EXPECT_EQ(ExtractTraceState(""), "");
  EXPECT_EQ(ExtractTraceState(" , ,"), "");
}

std::string Members(int n, int first = 0) {
  std::string s;
  for (int i = first; i < first + n; ++i) {
    if (!s.empty()) s += ",";
    s += "k" + std::to_string(i) + "=" + std::to_string(i);
  }
  return s;
}

TEST(TraceContextPropagator, TraceStateMemberLimit) {
  EXPECT_EQ(ExtractTraceState(Members(32)), Members(32));
  EXPECT_EQ(ExtractTraceState(Members(33)), "");
  // Empty members do not count.
  EXPECT_EQ(ExtractTraceState(Members(16) + ",,, ," + Members(16, 16)), Members(32));
}

TEST(TraceContextPropagator, TraceStateRejectsInvalidKeys) {
  for (const char* ts :
       {"FOO=1", "Foo=1", "foo.bar=1", "foo =1", "1foo=1", "_foo=1", "=1", "fo o=1", "foo@=1,bar=2",
        "@foo=1,bar=2", "foo@@bar=1,bar=2", "foo@bar@baz=1,bar=2", "foo@1bar=1", "foo@Bar=1",
        "foo@_bar=1", "_foo@bar=1", "foo=1,ba.r=2"}) {
    EXPECT_EQ(ExtractTraceState(ts), "") << ts;
  }
}

TEST(TraceContextPropagator, TraceStateAcceptsAllAllowedKeyCharacters) {
  const std::string key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
  EXPECT_EQ(ExtractTraceState(key + "=1"), key + "=1");
  EXPECT_EQ(ExtractTraceState(key + "@a-z0-9_-*/=1"), key + "@a-z0-9_-*/=1");
  // A tenant id may start with a digit, a simple key or system id may not.
  EXPECT_EQ(ExtractTraceState("1tenant@system=1"), "1tenant@system=1");
}

TEST(TraceContextPropagator, TraceStateKeyLengthLimits) {
  const std::string simple256(256, 'z');
  EXPECT_EQ(ExtractTraceState("foo=1," + simple256 + "=1"), "foo=1," + simple256 + "=1");
  EXPECT_EQ(ExtractTraceState("foo=1," + std::string(257, 'z') + "=1"), "");

  const std::string tenant241(241, 't'), system14(14, 'v');
  EXPECT_EQ(ExtractTraceState("foo=1," + tenant241 + "@" + system14 + "=1"),
            "foo=1," + tenant241 + "@" + system14 + "=1");
  EXPECT_EQ(ExtractTraceState("foo=1," + std::string(242, 't') + "@v=1"), "");
  EXPECT_EQ(ExtractTraceState("foo=1,t@" + std::string(15, 'v') + "=1"), "");
}

TEST(TraceContextPropagator, TraceStateAcceptsAllAllowedValueCharacters) {
  std::string value;
  for (int c = 0x20; c <= 0x7e; ++c) {
    if (c != ',' && c != '=') value.push_back(static_cast<char>(c));
  }
  ASSERT_EQ(value.front(), ' ');  // a leading space belongs to the value
  EXPECT_EQ(ExtractTraceState("foo=" + value), "foo=" + value);
  EXPECT_EQ(ExtractTraceState("foo=" + value + ",bar=2"), "foo=" + value + ",bar=2");
}

TEST(TraceContextPropagator, TraceStateRejectsInvalidValues) {
  for (const std::string ts : {"foo=bar=baz", "foo=,bar=3", "foo=", "foo=   ", "foo", "foo,bar=1",
                               "foo=a\tb", "foo=\x01", "foo=caf\xC3\xA9", "foo=\x7f"}) {
    EXPECT_EQ(ExtractTraceState(ts), "") << ts;
  }
}

TEST(TraceContextPropagator, TraceStateValueLengthLimit) {
  const std::string v256(256, 'v');
  EXPECT_EQ(ExtractTraceState("foo=" + v256), "foo=" + v256);
  EXPECT_EQ(ExtractTraceState("foo=" + std::string(257, 'v')), "");
  // Trailing whitespace is OWS, not part of the value, so it does not count.
  EXPECT_EQ(ExtractTraceState("foo=" + v256 + "  "), "foo=" + v256);
}

TEST(TraceContextPropagator, TraceStateRejectsDuplicateKeys) {
  EXPECT_EQ(ExtractTraceState("foo=1,foo=1"), "");
  EXPECT_EQ(ExtractTraceState("foo=1,foo=2"), "");
  EXPECT_EQ(ExtractTraceState("foo=1, bar=2 ,foo=1"), "");
  EXPECT_EQ(ExtractTraceState("t@foo=1,t@bar=2"), "t@foo=1,t@bar=2");
}

// --- inject ---------------------------------------------------------------

TEST(TraceContextPropagator, InjectsTraceParentAndTraceState) {
  SpanContext sc = ValidSpanContext();
  sc.trace_state = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
  MapCarrier carrier;
  MakeTraceContextPropagator()->Inject(carrier, Context().WithSpanContext(sc));
  EXPECT_EQ(carrier.headers().at("traceparent"), kValid);
  EXPECT_EQ(carrier.headers().at("tracestate"), sc.trace_state);
  EXPECT_EQ(carrier.headers().size(), 2u);
}

TEST(TraceContextPropagator, InjectsNotSampledAndOmitsEmptyTraceState) {
  SpanContext sc = ValidSpanContext();
  sc.trace_flags = 0;
  MapCarrier carrier;
  MakeTraceContextPropagator()->Inject(carrier, Context().WithSpanContext(sc));
  EXPECT_EQ(carrier.headers().at("traceparent"), TraceParent("00", "00"));
  EXPECT_EQ(carrier.headers().count("tracestate"), 0u);
}

TEST(TraceContextPropagator, InjectsNothingForInvalidSpanContext) {
  SpanContext no_span = ValidSpanContext();
  no_span.span_id = {};
  SpanContext no_trace = ValidSpanContext();
  no_trace.trace_id = {};
  for (const SpanContext& sc : {SpanContext(), no_span, no_trace}) {
    MapCarrier carrier;
    MakeTraceContextPropagator()->Inject(carrier, Context().WithSpanContext(sc));
    EXPECT_TRUE(carrier.headers().empty());
  }
}

TEST(TraceContextPropagator, RoundTrips) {
  auto propagator = MakeTraceContextPropagator();
  for (uint8_t flags : {0x00, 0x01, 0x03}) {
    SpanContext sc = ValidSpanContext();
    sc.trace_flags = flags;
    sc.trace_state = "a=1,t@sys= x y";
    MapCarrier carrier;
    propagator->Inject(carrier, Context().WithSpanContext(sc));
    const Context out = propagator->Extract(carrier, Context());
    SpanContext expected = sc;
    expected.is_remote = true;
    EXPECT_EQ(out.span_context(), expected);
  }
}

TEST(TraceContextPropagator, Fields) {
  EXPECT_EQ(MakeTraceContextPropagator()->Fields(),
            (std::vector<std::string>{"traceparent", "tracestate"}));
}

}  // namespace
}  // namespace tracewire
