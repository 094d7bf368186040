// B3 propagator, single and multi header
// (https://github.com/openzipkin/b3-propagation).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "propagation/map_carrier.h"
#include "tracewire/propagation.h"

namespace tracewire {
namespace {

constexpr char kTraceId[] = "80f198ee56343ba864fe8b2a57d3eff7";
constexpr char kTraceId64[] = "64fe8b2a57d3eff7";
constexpr char kSpanId[] = "e457b5a2e4d86bd1";
constexpr char kParentId[] = "05e3ac9a4f6e3b90";

template <size_t N>
std::array<uint8_t, N> IdFromHex(std::string_view hex) {
  std::array<uint8_t, N> id{};
  const size_t offset = N - hex.size() / 2;
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    id[offset + i] =
        static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return id;
}

SpanContext Expected(std::string_view trace_id, bool sampled) {
  SpanContext sc;
  sc.trace_id = IdFromHex<16>(trace_id);
  sc.span_id = IdFromHex<8>(kSpanId);
  sc.trace_flags = sampled ? kTraceFlagSampled : 0;
  sc.is_remote = true;
  return sc;
}

SpanContext Extract(const MapCarrier& carrier) {
  return MakeB3Propagator(true)->Extract(carrier, Context()).span_context();
}

SpanContext ExtractSingle(const std::string& b3) { return Extract(MapCarrier{{"b3", b3}}); }

std::string Join(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (std::string_view p : parts) {
    if (!s.empty()) s += "-";
    s += p;
  }
  return s;
}

// --- single header --------------------------------------------------------

TEST(B3Propagator, ExtractsSingleHeader) {
  EXPECT_EQ(ExtractSingle(Join({kTraceId, kSpanId, "1", kParentId})), Expected(kTraceId, true));
  EXPECT_EQ(ExtractSingle(Join({kTraceId, kSpanId, "1"})), Expected(kTraceId, true));
  EXPECT_EQ(ExtractSingle(Join({kTraceId, kSpanId, "0"})), Expected(kTraceId, false));
  // Deferred sampling decision: not sampled.
  EXPECT_EQ(ExtractSingle(Join({kTraceId, kSpanId})), Expected(kTraceId, false));
}

TEST(B3Propagator, SingleHeaderDebugMeansSampled) {
  EXPECT_EQ(ExtractSingle(Join({kTraceId, kSpanId, "d"})), Expected(kTraceId, true));
  EXPECT_EQ(ExtractSingle(Join({kTraceId, kSpanId, "d", kParentId})), Expected(kTraceId, true));
}

TEST(B3Propagator, SingleHeader64BitTraceIdIsLeftPadded) {
  const SpanContext sc = ExtractSingle(Join({kTraceId64, kSpanId, "1"}));
  ASSERT_TRUE(sc.IsValid());
  EXPECT_EQ(sc.trace_id,
            (TraceId{0, 0, 0, 0, 0, 0, 0, 0, 0x64, 0xfe, 0x8b, 0x2a, 0x57, 0xd3, 0xef, 0xf7}));
  EXPECT_EQ(sc, Expected(kTraceId64, true));
}

TEST(B3Propagator, SamplingStateAloneCarriesNoContext) {
  for (const char* v : {"0", "1", "d"}) EXPECT_FALSE(ExtractSingle(v).IsValid()) << v;
}

TEST(B3Propagator, RejectsMalformedSingleHeader) {
  for (const std::string& v : {
           Join({"80F198EE56343BA864FE8B2A57D3EFF7", kSpanId, "1"}),  // uppercase
           Join({kTraceId, "E457B5A2E4D86BD1", "1"}),                 // uppercase
           Join({"80f198ee56343ba864fe", kSpanId, "1"}),              // 20 digits
           Join({"80f198ee56343ba", kSpanId, "1"}),                   // 15 digits
           Join({kTraceId, "e457b5a2e4d86bd", "1"}),                  // short span id
           Join({"00000000000000000000000000000000", kSpanId, "1"}),  // zero trace id
           Join({"0000000000000000", kSpanId, "1"}),                  // zero 64-bit id
           Join({kTraceId, "0000000000000000", "1"}),                 // zero span id
           Join({kTraceId, kSpanId, "2"}),
           Join({kTraceId, kSpanId, "true"}),
           Join({kTraceId, kSpanId, ""}),                      // trailing dash
           Join({kTraceId, kSpanId, "1", "05e3ac9a4f6e3b9"}),  // bad parent
           Join({kTraceId, kSpanId, "1", kParentId, "x"}),     // too many fields
           std::string(kTraceId),
           std::string(""),
           std::string("-"),
       }) {
    EXPECT_FALSE(ExtractSingle(v).IsValid()) << v;
  }
}

TEST(B3Propagator, SingleHeaderKeyIsCaseInsensitive) {
  EXPECT_EQ(Extract(MapCarrier{{"B3", Join({kTraceId, kSpanId, "1"})}}), Expected(kTraceId, true));
}

// --- multi header ---------------------------------------------------------

TEST(B3Propagator, ExtractsMultiHeaderCanonicalCase) {
  const MapCarrier carrier{{"X-B3-TraceId", kTraceId},
                           {"X-B3-SpanId", kSpanId},
                           {"X-B3-ParentSpanId", kParentId},
                           {"X-B3-Sampled", "1"}};
  EXPECT_EQ(Extract(carrier), Expected(kTraceId, true));
}

TEST(B3Propagator, ExtractsMultiHeaderLowercase) {
  const MapCarrier carrier{
      {"x-b3-traceid", kTraceId64}, {"x-b3-spanid", kSpanId}, {"x-b3-sampled", "0"}};
  EXPECT_EQ(Extract(carrier), Expected(kTraceId64, false));
  EXPECT_EQ(MakeB3Propagator(false)->Extract(carrier, Context()).span_context(),
            Expected(kTraceId64, false));
}

TEST(B3Propagator, MultiHeaderSampledValues) {
  for (const auto& [value, sampled] : std::initializer_list<std::pair<const char*, bool>>{
           {"1", true}, {"true", true}, {"0", false}, {"false", false}}) {
    const MapCarrier carrier{
        {"x-b3-traceid", kTraceId}, {"x-b3-spanid", kSpanId}, {"x-b3-sampled", value}};
    EXPECT_EQ(Extract(carrier), Expected(kTraceId, sampled)) << value;
  }
  const MapCarrier deferred{{"x-b3-traceid", kTraceId}, {"x-b3-spanid", kSpanId}};
  EXPECT_EQ(Extract(deferred), Expected(kTraceId, false));
}

TEST(B3Propagator, MultiHeaderDebugFlagMeansSampled) {
  EXPECT_EQ(Extract(MapCarrier{
                {"X-B3-TraceId", kTraceId}, {"X-B3-SpanId", kSpanId}, {"X-B3-Flags", "1"}}),
            Expected(kTraceId, true));
  EXPECT_EQ(Extract(MapCarrier{{"x-b3-traceid", kTraceId},
                               {"x-b3-spanid", kSpanId},
                               {"x-b3-sampled", "0"},
                               {"x-b3-flags", "1"}}),
            Expected(kTraceId, true));
  EXPECT_EQ(Extract(MapCarrier{
                {"x-b3-traceid", kTraceId}, {"x-b3-spanid", kSpanId}, {"x-b3-flags", "0"}}),
            Expected(kTraceId, false));
}

TEST(B3Propagator, RejectsIncompleteOrMalformedMultiHeader) {
  for (const MapCarrier& c : {
           MapCarrier{{"x-b3-traceid", kTraceId}},
           MapCarrier{{"x-b3-spanid", kSpanId}, {"x-b3-sampled", "1"}},
           MapCarrier{{"x-b3-sampled", "1"}},
           MapCarrier{{"x-b3-traceid", "xyz"}, {"x-b3-spanid", kSpanId}},
           MapCarrier{{"x-b3-traceid", kTraceId}, {"x-b3-spanid", "0000000000000000"}},
           MapCarrier{
               {"x-b3-traceid", kTraceId}, {"x-b3-spanid", kSpanId}, {"x-b3-sampled", "yes"}},
           MapCarrier{{"x-b3-traceid", kTraceId}, {"x-b3-spanid", kSpanId}, {"x-b3-flags", "2"}},
       }) {
    EXPECT_FALSE(Extract(c).IsValid());
  }
}

TEST(B3Propagator, ParentSpanIdIsIgnoredOnExtract) {
  const MapCarrier with{
      {"x-b3-traceid", kTraceId}, {"x-b3-spanid", kSpanId}, {"x-b3-parentspanid", kParentId}};
  const MapCarrier without{{"x-b3-traceid", kTraceId}, {"x-b3-spanid", kSpanId}};
  EXPECT_EQ(Extract(with), Extract(without));
}

TEST(B3Propagator, SingleHeaderTakesPrecedenceAndFallsBackToMulti) {
  const std::string other_trace = "11111111111111111111111111111111";
  MapCarrier both{{"b3", Join({kTraceId, kSpanId, "1"})},
                  {"x-b3-traceid", other_trace},
                  {"x-b3-spanid", kSpanId},
                  {"x-b3-sampled", "0"}};
  EXPECT_EQ(Extract(both), Expected(kTraceId, true));
  both.Set("b3", "0");  // no ids in the single header: the multi headers count
  EXPECT_EQ(Extract(both), Expected(other_trace, false));
}

TEST(B3Propagator, InvalidHeadersLeaveContextUnchanged) {
  SpanContext existing = Expected(kTraceId, true);
  existing.is_remote = false;
  const Context before = Context().WithSpanContext(existing).WithBaggage(Baggage().Set("k", "v"));
  EXPECT_EQ(MakeB3Propagator(true)->Extract(MapCarrier{{"b3", "0"}}, before), before);
  EXPECT_EQ(MakeB3Propagator(false)->Extract(MapCarrier{}, before), before);
}

// --- inject ---------------------------------------------------------------

TEST(B3Propagator, InjectsSingleHeader) {
  MapCarrier carrier;
  MakeB3Propagator(true)->Inject(carrier, Context().WithSpanContext(Expected(kTraceId, true)));
  EXPECT_EQ(carrier.headers(),
            (std::map<std::string, std::string>{{"b3", Join({kTraceId, kSpanId, "1"})}}));

  MapCarrier unsampled;
  MakeB3Propagator(true)->Inject(unsampled, Context().WithSpanContext(Expected(kTraceId64, false)));
  EXPECT_EQ(unsampled.headers().at("b3"), Join({"000000000000000064fe8b2a57d3eff7", kSpanId, "0"}));
}

TEST(B3Propagator, InjectsMultiHeaderWithLowercaseKeys) {
  MapCarrier carrier;
  MakeB3Propagator(false)->Inject(carrier, Context().WithSpanContext(Expected(kTraceId, true)));
  EXPECT_EQ(carrier.headers(),
            (std::map<std::string, std::string>{
                {"x-b3-traceid", kTraceId}, {"x-b3-spanid", kSpanId}, {"x-b3-sampled", "1"}}));
  MapCarrier unsampled;
  MakeB3Propagator(false)->Inject(unsampled, Context().WithSpanContext(Expected(kTraceId, false)));
  EXPECT_EQ(unsampled.headers().at("x-b3-sampled"), "0");
}

TEST(B3Propagator, InjectsNothingForInvalidSpanContext) {
  for (bool single : {true, false}) {
    MapCarrier carrier;
    MakeB3Propagator(single)->Inject(carrier, Context());
    EXPECT_TRUE(carrier.headers().empty());
  }
}

TEST(B3Propagator, RoundTrips) {
  for (bool single : {true, false}) {
    for (bool sampled : {true, false}) {
      auto p = MakeB3Propagator(single);
      SpanContext sc = Expected(kTraceId, sampled);
      sc.is_remote = false;
      MapCarrier carrier;
      p->Inject(carrier, Context().WithSpanContext(sc));
      EXPECT_EQ(p->Extract(carrier, Context()).span_context(), Expected(kTraceId, sampled));
    }
  }
}

TEST(B3Propagator, Fields) {
  const std::vector<std::string> single = MakeB3Propagator(true)->Fields();
  const std::vector<std::string> multi = MakeB3Propagator(false)->Fields();
  EXPECT_EQ(single.front(), "b3");
  EXPECT_EQ(multi.front(), "x-b3-traceid");
  for (const char* f :
       {"b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"}) {
    EXPECT_NE(std::find(single.begin(), single.end(), f), single.end()) << f;
    EXPECT_NE(std::find(multi.begin(), multi.end(), f), multi.end()) << f;
  }
}

}  // namespace
}  // namespace tracewire
