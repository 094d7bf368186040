// W3C Baggage propagator: parsing, percent-encoding and limits of
// https://www.w3.org/TR/baggage/.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "propagation/map_carrier.h"
#include "tracewire/propagation.h"

namespace tracewire {
namespace {

Baggage ExtractBaggage(const std::string& header, const Context& context = Context()) {
  return MakeBaggagePropagator()->Extract(MapCarrier{{"baggage", header}}, context).baggage();
}

std::string InjectBaggage(const Baggage& baggage) {
  MapCarrier carrier;
  MakeBaggagePropagator()->Inject(carrier, Context().WithBaggage(baggage));
  auto it = carrier.headers().find("baggage");
  return it == carrier.headers().end() ? "<none>" : it->second;
}

TEST(BaggagePropagator, ExtractsEntries) {
  const Baggage b = ExtractBaggage("userId=alice,serverNode=DF%2028,isProduction=false");
  EXPECT_EQ(b.entries().size(), 3u);
  EXPECT_EQ(b.Get("userId"), "alice");
  EXPECT_EQ(b.Get("serverNode"), "DF 28");
  EXPECT_EQ(b.Get("isProduction"), "false");
}

TEST(BaggagePropagator, ExtractsPropertiesAsMetadata) {
  const Baggage b = ExtractBaggage(
      "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue");
  ASSERT_EQ(b.entries().size(), 3u);
  EXPECT_EQ(b.entries().at("key1"), (Baggage::Entry{"value1", "property1;property2"}));
  EXPECT_EQ(b.entries().at("key2"), (Baggage::Entry{"value2", ""}));
  EXPECT_EQ(b.entries().at("key3"), (Baggage::Entry{"value3", "propertyKey=propertyValue"}));
}

TEST(BaggagePropagator, IgnoresWhitespaceAroundTokens) {
  const Baggage b = ExtractBaggage(" \tk1 \t= \tv1 \t; \tp1 \t; p2 = x \t,\t k2=v2 ");
  ASSERT_EQ(b.entries().size(), 2u);
  EXPECT_EQ(b.entries().at("k1"), (Baggage::Entry{"v1", "p1;p2=x"}));
  EXPECT_EQ(b.Get("k2"), "v2");
}

TEST(BaggagePropagator, PercentDecodesValues) {
  EXPECT_EQ(ExtractBaggage("k=hello%20world%2C%3B%25%22%5C").Get("k"), "hello world,;%\"\\");
  EXPECT_EQ(ExtractBaggage("k=%e2%82%ac%E2%82%AC").Get("k"), "\xE2\x82\xAC\xE2\x82\xAC");  // €€
  EXPECT_EQ(ExtractBaggage("k=a+b").Get("k"), "a+b");  // not form encoding
  EXPECT_EQ(ExtractBaggage("k=a=b").Get("k"), "a=b");  // '=' is a baggage-octet
  // Keys are not decoded.
  EXPECT_EQ(ExtractBaggage("a%41=1").Get("a%41"), "1");
}

TEST(BaggagePropagator, ReplacesInvalidUtf8WithReplacementCharacter) {
  const std::string kFffd = "\xEF\xBF\xBD";
  EXPECT_EQ(ExtractBaggage("k=a%FFb").Get("k"), "a" + kFffd + "b");
  EXPECT_EQ(ExtractBaggage("k=%C3").Get("k"), kFffd);                        // truncated sequence
  EXPECT_EQ(ExtractBaggage("k=%C3%A9").Get("k"), "\xC3\xA9");                // é
  EXPECT_EQ(ExtractBaggage("k=%C0%AF").Get("k"), kFffd + kFffd);             // overlong
  EXPECT_EQ(ExtractBaggage("k=%ED%A0%80").Get("k"), kFffd + kFffd + kFffd);  // surrogate
  EXPECT_EQ(ExtractBaggage("k=%E2%82x").Get("k"), kFffd + "x");              // maximal subpart
}

TEST(BaggagePropagator, SkipsInvalidEntriesIndividually) {
  const Baggage b = ExtractBaggage(
      "good1=1,noequals,bad key=1,k=va lue,(k)=v,=v,k2=\"q\",k3=a\\b,k4=%zz,k5=%4,k6=v;,k7=v;bad "
      "prop,k8=v;p=a b,k9=caf\xC3\xA9,good2=2");
  EXPECT_EQ(b.entries().size(), 2u);
  EXPECT_EQ(b.Get("good1"), "1");
  EXPECT_EQ(b.Get("good2"), "2");
}

TEST(BaggagePropagator, AcceptsTokenKeysAndEmptyValues) {
  const Baggage b = ExtractBaggage("!#$%&'*+-.^_`|~09azAZ=x,empty=");
  EXPECT_EQ(b.Get("!#$%&'*+-.^_`|~09azAZ"), "x");
  EXPECT_EQ(b.Get("empty"), "");
}

TEST(BaggagePropagator, SkipsEmptyMembers) {
  const Baggage b = ExtractBaggage(",,a=1, ,\t,b=2,");
  EXPECT_EQ(b.entries().size(), 2u);
}

TEST(BaggagePropagator, LaterDuplicateWins) { EXPECT_EQ(ExtractBaggage("k=1,k=2").Get("k"), "2"); }

TEST(BaggagePropagator, ExtractReplacesBaggageAndKeepsSpanContext) {
  SpanContext sc;
  sc.trace_id[0] = 1;
  sc.span_id[0] = 1;
  const Context before = Context().WithSpanContext(sc).WithBaggage(Baggage().Set("old", "1"));
  const Context after = MakeBaggagePropagator()->Extract(MapCarrier{{"baggage", "new=2"}}, before);
  EXPECT_EQ(after.span_context(), sc);
  EXPECT_EQ(after.baggage(), Baggage().Set("new", "2"));
}

TEST(BaggagePropagator, MissingOrWhollyInvalidHeaderLeavesContextUnchanged) {
  const Context before = Context().WithBaggage(Baggage().Set("old", "1"));
  auto p = MakeBaggagePropagator();
  EXPECT_EQ(p->Extract(MapCarrier{}, before), before);
  EXPECT_EQ(p->Extract(MapCarrier{{"baggage", ""}}, before), before);
  EXPECT_EQ(p->Extract(MapCarrier{{"baggage", "no equals, bad key=1"}}, before), before);
}

TEST(BaggagePropagator, KeepsAtMost180Members) {
  std::string header;
  for (int i = 0; i < 200; ++i)
    header += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  const Baggage b = ExtractBaggage(header);
  EXPECT_EQ(b.entries().size(), 180u);
  EXPECT_TRUE(b.Get("k179").has_value());
  EXPECT_FALSE(b.Get("k180").has_value());
}

TEST(BaggagePropagator, InvalidMembersDoNotCountTowardTheLimit) {
  std::string header = "bad key=1,bad key=2";
  for (int i = 0; i < 180; ++i) header += ",k" + std::to_string(i) + "=v";
  EXPECT_EQ(ExtractBaggage(header).entries().size(), 180u);
}

TEST(BaggagePropagator, RefusesHeaderOver8192Bytes) {
  const std::string exact = "k=" + std::string(8190, 'v');
  ASSERT_EQ(exact.size(), 8192u);
  EXPECT_EQ(ExtractBaggage(exact).Get("k"), std::string(8190, 'v'));
  const Context before = Context().WithBaggage(Baggage().Set("old", "1"));
  EXPECT_EQ(ExtractBaggage(exact + "v", before), before.baggage());
  EXPECT_EQ(ExtractBaggage("a=1," + exact, before), before.baggage());
}

// --- inject ---------------------------------------------------------------

TEST(BaggagePropagator, InjectsEntries) {
  EXPECT_EQ(InjectBaggage(Baggage().Set("userId", "alice").Set("isProduction", "false")),
            "isProduction=false,userId=alice");
}

TEST(BaggagePropagator, InjectsMetadataAsProperties) {
  EXPECT_EQ(InjectBaggage(Baggage().Set("k", "v", "ttl=30;public")), "k=v;ttl=30;public");
  EXPECT_EQ(InjectBaggage(Baggage().Set("k", "v", " ttl = 30 ; public ")), "k=v;ttl=30;public");
  // Metadata that is not valid properties is dropped, the entry kept.
  EXPECT_EQ(InjectBaggage(Baggage().Set("k", "v", "a,b")), "k=v");
}

TEST(BaggagePropagator, PercentEncodesValues) {
  EXPECT_EQ(InjectBaggage(Baggage().Set("k", "hello world,;\\%\"\xC3\xA9\t\x7f")),
            "k=hello%20world%2C%3B%5C%25%22%C3%A9%09%7F");
  // Everything else in baggage-octet is sent as is.
  EXPECT_EQ(InjectBaggage(Baggage().Set("k", "a=b/c:d?e&f+g!#$'()*<>@[]^_`{|}~")),
            "k=a=b/c:d?e&f+g!#$'()*<>@[]^_`{|}~");
}

TEST(BaggagePropagator, InjectSkipsInvalidKeys) {
  EXPECT_EQ(InjectBaggage(Baggage().Set("bad key", "1").Set("", "2").Set("k,", "3").Set("ok", "4")),
            "ok=4");
}

TEST(BaggagePropagator, InjectsNothingForEmptyBaggage) {
  EXPECT_EQ(InjectBaggage(Baggage()), "<none>");
  EXPECT_EQ(InjectBaggage(Baggage().Set("bad key", "1")), "<none>");
}

TEST(BaggagePropagator, InjectKeepsAtMost180Members) {
  Baggage b;
  for (int i = 0; i < 200; ++i) b = b.Set("k" + std::to_string(1000 + i), "v");
  const std::string header = InjectBaggage(b);
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), 179);
}

TEST(BaggagePropagator, InjectKeepsHeaderWithin8192Bytes) {
  Baggage b;
  for (int i = 0; i < 10; ++i) b = b.Set("k" + std::to_string(i), std::string(1000, 'v'));
  b = b.Set("z", "1");
  const std::string header = InjectBaggage(b);
  EXPECT_LE(header.size(), 8192u);
  // Eight 1003-byte members fit; the 9th and 10th do not; the small one still does.
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), 8);
  EXPECT_NE(header.find("z=1"), std::string::npos);
  // Encoding counts: 3000 spaces become 9000 bytes and do not fit at all.
  EXPECT_EQ(InjectBaggage(Baggage().Set("k", std::string(3000, ' '))), "<none>");
}

TEST(BaggagePropagator, RoundTrips) {
  std::string all_bytes;
  for (int c = 1; c < 256; ++c) {
    if (c < 0x80) all_bytes.push_back(static_cast<char>(c));
  }
  const Baggage b = Baggage()
                        .Set("ascii", all_bytes)
                        .Set("utf8", "\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80")
                        .Set("empty", "")
                        .Set("meta", "v", "p1;p2=x");
  auto p = MakeBaggagePropagator();
  MapCarrier carrier;
  p->Inject(carrier, Context().WithBaggage(b));
  EXPECT_EQ(p->Extract(carrier, Context()).baggage(), b);
}

TEST(BaggagePropagator, Fields) {
  EXPECT_EQ(MakeBaggagePropagator()->Fields(), std::vector<std::string>{"baggage"});
}

}  // namespace
}  // namespace tracewire
