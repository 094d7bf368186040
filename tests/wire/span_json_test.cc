#include "wire/span_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>

#include "tools/synthetic.h"
#include "wire/otlp_json.h"
#include "wire/otlp_schema.h"
#include "wire/test_messages.h"

namespace tracewire::wire {
namespace {

using tw_test::ExactBuffer;
using tw_test::TraceRequest;
namespace otc = tw_test::otc;
namespace ott = tw_test::ott;

// ---- Helpers ---------------------------------------------------------------------

// Checks the invariant of span_json.h on `bytes`, and whether the fast path
// wrote them itself (`fast`) or left them to JsonWriter.
void ExpectSameAsJsonWriter(std::string_view bytes, bool fast) {
  const ExactBuffer exact(bytes);  // AddressSanitizer sees reads past the end
  JsonWriter reference;
  std::string want = "[prefix]";
  const bool want_ok = reference.Append(exact.view(), schema::kExportTraceServiceRequest, &want);

  JsonWriter fallback;
  std::string got = "[prefix]";
  EXPECT_EQ(AppendTracesJson(exact.view(), &fallback, &got), want_ok);
  EXPECT_EQ(got, want);

  std::string fast_out = "[prefix]";
  EXPECT_EQ(TryAppendTracesJson(exact.view(), &fast_out), fast)
      << "the fast path " << (fast ? "refused" : "accepted") << " the bytes";
  if (fast) {
    EXPECT_TRUE(want_ok);
    EXPECT_EQ(fast_out, want);
  } else {
    EXPECT_EQ(fast_out, "[prefix]");
  }
}

// Protobuf wire format by hand, for layouts that serializers do not write.
class Pb {
 public:
  Pb& Varint(uint32_t number, uint64_t v) {
    Tag(number, 0);
    PutVarint(v);
    return *this;
  }
  Pb& Fixed64(uint32_t number, uint64_t v) {
    Tag(number, 1);
    s_.append(reinterpret_cast<const char*>(&v), 8);
    return *this;
  }
  Pb& Double(uint32_t number, double d) {
    uint64_t v;
    std::memcpy(&v, &d, 8);
    return Fixed64(number, v);
  }
  Pb& Fixed32(uint32_t number, uint32_t v) {
    Tag(number, 5);
    s_.append(reinterpret_cast<const char*>(&v), 4);
    return *this;
  }
  Pb& Len(uint32_t number, std::string_view b) {
    Tag(number, 2);
    PutVarint(b.size());
    s_.append(b);
    return *this;
  }
  Pb& Len(uint32_t number, const Pb& m) { return Len(number, m.s_); }
  Pb& Group(uint32_t number, const Pb& body) {
    Tag(number, 3);
    s_.append(body.s_);
    Tag(number, 4);
    return *this;
  }
  Pb& Raw(std::string_view b) {
    s_.append(b);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  void Tag(uint32_t number, int wire_type) { PutVarint((uint64_t{number} << 3) | wire_type); }
  void PutVarint(uint64_t v) {
    while (v >= 0x80) {
      s_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    s_.push_back(static_cast<char>(v));
  }
  std::string s_;
};

// A request of one resource, one scope and these spans.
std::string RequestOfSpans(std::initializer_list<Pb> spans) {
  Pb ss;
  for (const Pb& s : spans) ss.Len(2, s);
  return Pb().Len(1, Pb().Len(2, ss)).str();
}

// A request whose one span has these attributes.
std::string RequestOfAttributes(std::initializer_list<Pb> kvs) {
  Pb span;
  for (const Pb& kv : kvs) span.Len(9, kv);
  return RequestOfSpans({span});
}

Pb KeyValue(std::string_view key, const Pb& value) { return Pb().Len(1, key).Len(2, value); }

// ---- What serializers write: the fast path ----------------------------------------

TEST(SpanJson, StandardSpansRequestIsIdentical) {
  ExpectSameAsJsonWriter(tools::MakeStandardSpansRequest(512, 7), true);
  ExpectSameAsJsonWriter(tools::MakeStandardSpansRequest(1, 1), true);
}

TEST(SpanJson, SyntheticTracesRequestIsIdentical) {
  tools::SyntheticOptions o;
  o.invalid_items = 3;
  ExpectSameAsJsonWriter(tools::MakeTracesRequest(50, o), true);
}

TEST(SpanJson, EveryFieldIsIdentical) {
  ExpectSameAsJsonWriter(tw_test::EveryFieldTraceRequest().SerializeAsString(), true);
}

TEST(SpanJson, EmptyMessagesAreIdentical) {
  ExpectSameAsJsonWriter("", true);
  TraceRequest req;
  req.add_resource_spans();
  ExpectSameAsJsonWriter(req.SerializeAsString(), true);
  auto* rs = req.add_resource_spans();
  rs->mutable_resource();
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope();
  ott::Span* s = ss->add_spans();
  s->add_events();
  s->add_links();
  s->mutable_status();
  s->add_attributes();
  s->add_attributes()->mutable_value();
  ss->add_spans();
  ExpectSameAsJsonWriter(req.SerializeAsString(), true);
  // Empty members of every AnyValue kind, written as present.
  ExpectSameAsJsonWriter(RequestOfAttributes({
                             KeyValue("s", Pb().Len(1, "")),
                             KeyValue("b", Pb().Varint(2, 0)),
                             KeyValue("i", Pb().Varint(3, 0)),
                             KeyValue("d", Pb().Double(4, 0.0)),
                             KeyValue("a", Pb().Len(5, "")),
                             KeyValue("k", Pb().Len(6, "")),
                             KeyValue("y", Pb().Len(7, "")),
                             KeyValue("", Pb()),
                         }),
                         true);
}

TEST(SpanJson, EdgeNumbersAreIdentical) {
  const double kDoubles[] = {0.0,
                             -0.0,
                             std::numeric_limits<double>::quiet_NaN(),
                             -std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::lowest(),
                             std::numeric_limits<double>::min(),
                             std::numeric_limits<double>::denorm_min(),
                             0.1,
                             1e21,
                             1e22,
                             -1.5e-300,
                             123456789012345678.0,
                             1.0 / 3,
                             100.0};
  for (double d : kDoubles) {
    ExpectSameAsJsonWriter(RequestOfAttributes({KeyValue("d", Pb().Double(4, d))}), true);
  }
  const uint64_t kInts[] = {0,
                            1,
                            ~uint64_t{0},  // -1
                            uint64_t{1} << 63,
                            (uint64_t{1} << 63) - 1,
                            uint64_t{1} << 32,
                            0xFFFFFFFF};
  for (uint64_t v : kInts) {
    SCOPED_TRACE(v);
    ExpectSameAsJsonWriter(
        RequestOfAttributes({KeyValue("i", Pb().Varint(3, v)), KeyValue("b", Pb().Varint(2, v))}),
        true);
    // uint32 and enum fields keep the low 32 bits; fixed64 prints unsigned.
    ExpectSameAsJsonWriter(RequestOfSpans({Pb().Varint(6, v)
                                               .Fixed64(7, v)
                                               .Fixed64(8, v)
                                               .Varint(10, v)
                                               .Varint(12, v)
                                               .Varint(14, v)
                                               .Len(15, Pb().Varint(3, v))
                                               .Fixed32(16, static_cast<uint32_t>(v))}),
                           true);
    ExpectSameAsJsonWriter(
        RequestOfSpans({Pb().Len(11, Pb().Fixed64(1, v).Varint(4, v))
                            .Len(13, Pb().Varint(5, v).Fixed32(6, static_cast<uint32_t>(v)))}),
        true);
    ExpectSameAsJsonWriter(
        Pb().Len(1, Pb().Len(1, Pb().Varint(2, v)).Len(2, Pb().Len(1, Pb().Varint(4, v)))).str(),
        true);
  }
}

TEST(SpanJson, EscapesAndInvalidUtf8AreIdentical) {
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  const std::string kStrings[] = {
      controls,
      "\"\\/\x7f",
      "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
      "\xff\xfe",              // not UTF-8
      "\xC3",                  // truncated sequence
      "\xC0\xAF",              // overlong
      "\xED\xA0\x80",          // surrogate
      "\xF4\x90\x80\x80",      // above U+10FFFF
      std::string("a\0b", 3),  // NUL
      "</script>\u2028\u2029",
  };
  for (const std::string& s : kStrings) {
    ExpectSameAsJsonWriter(RequestOfAttributes({KeyValue(s, Pb().Len(1, s))}), true);
    ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(3, s)
                                               .Len(5, s)
                                               .Len(11, Pb().Len(2, s))
                                               .Len(13, Pb().Len(3, s))
                                               .Len(15, Pb().Len(2, s))}),
                           true);
    const Pb resource = Pb().Len(1, KeyValue(s, Pb().Len(1, s)))
                            .Len(3, Pb().Len(1, s).Len(2, s).Len(3, s).Len(4, s));
    const Pb scope_spans = Pb().Len(1, Pb().Len(1, s).Len(2, s)).Len(3, s);
    ExpectSameAsJsonWriter(Pb().Len(1, Pb().Len(1, resource).Len(2, scope_spans).Len(3, s)).str(),
                           true);
    // Ids of any length, and bytes, are not strings: hex and base64.
    ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(1, s).Len(2, s).Len(4, s)}), true);
    ExpectSameAsJsonWriter(RequestOfAttributes({KeyValue("y", Pb().Len(7, s))}), true);
  }
  // Every byte at every place of an eight-byte word, and past it.
  for (int c = 0; c < 256; ++c) {
    for (size_t len = 1; len <= 19; ++len) {
      for (size_t at = 0; at < len; ++at) {
        std::string str(len, 'a');
        str[at] = static_cast<char>(c);
        const std::string req = RequestOfAttributes({KeyValue("k", Pb().Len(1, str))});
        JsonWriter w;
        std::string want;
        ASSERT_TRUE(w.Append(req, schema::kExportTraceServiceRequest, &want));
        std::string got;
        ASSERT_TRUE(TryAppendTracesJson(req, &got));
        ASSERT_EQ(got, want) << "byte " << c << " at " << at << " of " << len;
      }
    }
  }
  for (size_t n = 0; n < 8; ++n) {  // every base64 padding
    ExpectSameAsJsonWriter(
        RequestOfAttributes({KeyValue("y", Pb().Len(7, std::string(n, '\xfb')))}), true);
  }
}

TEST(SpanJson, NestedValuesAreIdentical) {
  // Arrays and kvlists nested near JsonWriter's depth limit, past it too.
  for (int levels : {1, 2, 30, 35, 36, 37, 38, 39, 40, 41, 50}) {
    SCOPED_TRACE(levels);
    Pb v = Pb().Len(1, "leaf");
    for (int i = 0; i < levels; ++i) {
      v = i % 2 ? Pb().Len(5, Pb().Len(1, v)) : Pb().Len(6, Pb().Len(1, KeyValue("k", v)));
    }
    const std::string req = RequestOfAttributes({KeyValue("deep", v)});
    JsonWriter w;
    std::string out;
    const bool ok = w.Append(req, schema::kExportTraceServiceRequest, &out);
    std::string fast_out;
    const bool fast = TryAppendTracesJson(req, &fast_out);
    EXPECT_TRUE(ok || !fast);
    ExpectSameAsJsonWriter(req, fast);
    if (levels <= 30) EXPECT_TRUE(fast);
  }
}

// ---- Span.flags: serializers write it last, JSON wants it fifth ---------------------

TEST(SpanJson, FlagsAreInsertedWhereJsonWriterPutsThem) {
  const Pb ids = Pb().Len(1, std::string(16, 'a')).Len(2, std::string(8, 'b'));
  const std::string one[] = {
      RequestOfSpans({Pb().Fixed32(16, 1)}),                          // alone
      RequestOfSpans({Pb().Fixed32(16, 0)}),                          // default
      RequestOfSpans({Pb(ids).Fixed32(16, 7).Len(5, "n")}),           // in order
      RequestOfSpans({Pb(ids).Len(5, "n").Fixed32(16, 7)}),           // late
      RequestOfSpans({Pb().Len(5, "n").Fixed32(16, 7)}),              // late, first
      RequestOfSpans({Pb().Len(5, "").Fixed32(16, 7)}),               // late, alone
      RequestOfSpans({Pb().Len(5, "").Fixed32(16, 7).Varint(6, 2)}),  // late, then more
      RequestOfSpans({Pb().Len(5, "").Fixed32(16, 0).Varint(6, 2)}),  // late default
      RequestOfSpans({Pb(ids)
                          .Len(9, KeyValue("a", Pb()))
                          .Fixed32(16, 3)
                          .Len(9, KeyValue("b", Pb()))}),                  // inside an array
      RequestOfSpans({Pb().Varint(5, 1).Fixed32(16, 3).Len(5, "n")}),      // after a skipped 5
      RequestOfSpans({Pb(ids).Varint(5, 1).Len(3, "ts").Fixed32(16, 3)}),  // ditto, in order
      RequestOfSpans({Pb(ids).Len(5, "n").Fixed64(16, 3)}),                // wrong wire type
  };
  for (const std::string& req : one) ExpectSameAsJsonWriter(req, true);
  // Twice, in any order: last wins in JsonWriter; left to it.
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Fixed32(16, 1).Fixed32(16, 2)}), false);
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Fixed32(16, 1).Len(5, "n").Fixed32(16, 2)}), false);
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(5, "n").Fixed32(16, 1).Fixed32(16, 2)}), false);
}

// ---- Unknown fields and unexpected wire types: skipped by both ----------------------

TEST(SpanJson, UnknownFieldsAreSkippedAsJsonWriterSkipsThem) {
  const Pb unknown = Pb().Varint(17, 5)
                         .Fixed64(18, 6)
                         .Len(19, "junk")
                         .Group(20, Pb().Varint(1, 1).Group(2, Pb()))
                         .Fixed32(21, 7)
                         .Varint(1000, 1)
                         .Varint(536870911, 1);  // the largest field number
  auto u = [&](Pb p) { return p.Raw(unknown.str()); };
  const Pb any = u(Pb().Len(1, "v"));
  const Pb kv = u(KeyValue("k", any));
  const Pb span = u(Pb().Len(1, "0123456789abcdef")
                        .Len(9, kv)
                        .Raw(unknown.str())
                        .Len(9, kv)
                        .Len(11, u(Pb().Len(2, "e").Len(3, kv)))
                        .Len(13, u(Pb().Len(3, "t").Len(4, kv)))
                        .Len(15, u(Pb().Varint(1, 2).Len(2, "m").Varint(3, 2))));
  const std::string req =
      u(Pb().Len(1, u(Pb().Len(1, u(Pb().Len(1, kv).Varint(2, 1).Len(
                                      3, u(Pb().Len(1, "s").Len(3, "id").Len(4, "d")))))
                          .Len(2, u(Pb().Len(1, u(Pb().Len(1, "scope").Len(3, kv)))
                                        .Len(2, span)
                                        .Raw(unknown.str())
                                        .Len(2, span)
                                        .Len(3, "url")))
                          .Len(3, "url")))
            .Len(1, u(Pb()))
            .Len(2, "no such field"))
          .str();
  ExpectSameAsJsonWriter(req, true);
  // Nested values with unknown fields.
  ExpectSameAsJsonWriter(
      RequestOfAttributes({KeyValue("a", u(Pb().Len(5, u(Pb().Len(1, any).Len(1, any))))),
                           KeyValue("k", u(Pb().Len(6, u(Pb().Len(1, kv).Len(1, kv)))))}),
      true);
}

TEST(SpanJson, KnownFieldsOfAnotherWireTypeAreSkipped) {
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Varint(1, 1)
                                             .Fixed64(2, 2)
                                             .Len(2, "12345678")
                                             .Fixed32(5, 3)
                                             .Len(6, "kind")
                                             .Varint(7, 1)
                                             .Len(8, "x")
                                             .Varint(9, 1)
                                             .Group(11, Pb())
                                             .Fixed32(15, 2)}),
                         true);
  ExpectSameAsJsonWriter(RequestOfAttributes({KeyValue("a", Pb().Varint(1, 1).Len(2, "t")),
                                              KeyValue("b", Pb().Fixed32(3, 1).Len(3, "x")),
                                              KeyValue("c", Pb().Varint(4, 1).Varint(5, 1))}),
                         true);
  ExpectSameAsJsonWriter(Pb().Varint(1, 1).Len(1, Pb().Fixed64(1, 2).Varint(2, 1)).str(), true);
}

// ---- Layouts serializers do not write: left to JsonWriter ---------------------------

TEST(SpanJson, RepeatedSingularFieldsAreLeftToJsonWriter) {
  // Last wins for scalars; messages merge.
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(5, "a").Len(5, "b")}), false);
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(5, "a").Len(5, "")}), false);
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Varint(6, 1).Varint(6, 0)}), false);
  ExpectSameAsJsonWriter(
      RequestOfSpans({Pb().Len(15, Pb().Len(2, "m")).Len(15, Pb().Varint(3, 2))}), false);
  ExpectSameAsJsonWriter(
      Pb().Len(1, Pb().Len(1, Pb().Varint(2, 1)).Len(1, Pb().Len(1, Pb()))).str(), false);
  ExpectSameAsJsonWriter(
      Pb().Len(1, Pb().Len(2, Pb().Len(1, Pb().Len(1, "a")).Len(1, Pb().Len(2, "v")))).str(),
      false);
  ExpectSameAsJsonWriter(
      RequestOfAttributes({Pb().Len(1, "k").Len(2, Pb().Len(1, "x")).Len(2, Pb().Varint(3, 1))}),
      false);
  // AnyValue: another member clears the first, the same member twice merges or replaces.
  ExpectSameAsJsonWriter(RequestOfAttributes({KeyValue("a", Pb().Len(1, "s").Varint(3, 1))}),
                         false);
  ExpectSameAsJsonWriter(RequestOfAttributes({KeyValue("a", Pb().Len(1, "s").Len(1, "t"))}), false);
  ExpectSameAsJsonWriter(
      RequestOfAttributes({KeyValue(
          "a", Pb().Len(5, Pb().Len(1, Pb().Len(1, "x"))).Len(5, Pb().Len(1, Pb().Varint(2, 1))))}),
      false);
  // A cleared member is never parsed by JsonWriter, malformed or not.
  ExpectSameAsJsonWriter(RequestOfAttributes({KeyValue("a", Pb().Len(5, "\xff").Len(1, "s"))}),
                         false);
}

TEST(SpanJson, FieldsOutOfOrderAreLeftToJsonWriter) {
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(5, "n").Len(1, "id")}), false);
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(15, Pb()).Len(9, KeyValue("k", Pb()))}), false);
  // A repeated field in two runs: JsonWriter writes the elements together.
  ExpectSameAsJsonWriter(
      RequestOfSpans({Pb().Len(9, KeyValue("a", Pb())).Varint(10, 1).Len(9, KeyValue("b", Pb()))}),
      false);
  ExpectSameAsJsonWriter(Pb().Len(1, Pb().Len(3, "url").Len(2, Pb())).str(), false);
  ExpectSameAsJsonWriter(
      Pb().Len(1, Pb().Len(2, Pb().Len(3, "url").Len(1, Pb().Len(1, "scope")))).str(), false);
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(13, Pb().Fixed32(6, 1).Len(1, "t"))}), false);
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(15, Pb().Varint(3, 1).Len(2, "m"))}), false);
  ExpectSameAsJsonWriter(RequestOfAttributes({Pb().Len(2, Pb().Len(1, "v")).Len(1, "k")}), false);
  // Reversed span fields, as a hand-written encoder might send them.
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Fixed32(16, 1)
                                             .Len(15, Pb().Varint(3, 1))
                                             .Fixed64(8, 2)
                                             .Fixed64(7, 1)
                                             .Len(5, "n")
                                             .Len(2, "12345678")
                                             .Len(1, "0123456789abcdef")}),
                         false);
}

TEST(SpanJson, MalformedBytesAreLeftToJsonWriter) {
  const std::string good = tw_test::EveryFieldTraceRequest().SerializeAsString();
  ExpectSameAsJsonWriter(good.substr(0, good.size() - 1), false);
  ExpectSameAsJsonWriter(good.substr(0, good.size() / 2), false);
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Raw("\x0a\x05"
                                                  "abc")}),
                         false);  // short
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Raw(std::string_view("\x00\x01", 2))}),
                         false);                                              // field 0
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Raw("\x0c")}), false);          // end group
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Raw("\x0b\x08\x01")}), false);  // open group
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Raw("\x0e")}), false);          // wire type 6
  ExpectSameAsJsonWriter(RequestOfAttributes({KeyValue("k", Pb().Raw("\x08\xff"))}), false);
  // Inside an unknown field's payload nothing is parsed.
  ExpectSameAsJsonWriter(RequestOfSpans({Pb().Len(99, "\xff\xff")}), true);
}

// Random corruption of real requests: the invariant holds on whatever comes.
TEST(SpanJson, CorruptedRequestsAreIdentical) {
  const std::string base[] = {tw_test::EveryFieldTraceRequest().SerializeAsString(),
                              tools::MakeStandardSpansRequest(4, 3)};
  std::mt19937_64 rng(17);
  int fast = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string b = base[i % 2];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0:
          b[at] = static_cast<char>(rng());
          break;
        case 1:
          b.erase(at, 1 + rng() % 4);
          break;
        default:
          b.insert(at, 1, static_cast<char>(rng()));
      }
    }
    JsonWriter w;
    std::string want;
    const bool want_ok = w.Append(b, schema::kExportTraceServiceRequest, &want);
    JsonWriter fallback;
    std::string got;
    ASSERT_EQ(AppendTracesJson(b, &fallback, &got), want_ok) << "input " << i;
    ASSERT_EQ(got, want) << "input " << i;
    std::string f;
    if (TryAppendTracesJson(b, &f)) {
      ++fast;
      ASSERT_EQ(f, want) << "input " << i;
    }
  }
  EXPECT_GT(fast, 0);
}

}  // namespace
}  // namespace tracewire::wire
