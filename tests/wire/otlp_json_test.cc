#include "wire/otlp_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/json_util.h"
#include "wire/otlp_reader.h"
#include "wire/otlp_schema.h"
#include "wire/test_messages.h"

namespace tracewire::wire {
namespace {

using ::google::protobuf::Message;
using nlohmann::json;
using tw_test::ExactBuffer;
using tw_test::LogsRequest;
using tw_test::MetricsRequest;
using tw_test::TraceRequest;
namespace otc = tw_test::otc;
namespace ott = tw_test::ott;
namespace otm = tw_test::otm;
namespace otl = tw_test::otl;

// ---- Helpers ---------------------------------------------------------------------

std::string OurJson(std::string_view bytes, const MessageDesc& desc) {
  JsonWriter w;
  std::string out;
  EXPECT_TRUE(w.Append(bytes, desc, &out)) << "JsonWriter rejected the bytes";
  return out;
}

std::string LibJson(const Message& m) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_enums_as_ints = true;
  opts.preserve_proto_field_names = false;
  std::string out;
  const auto st = google::protobuf::util::MessageToJsonString(m, &out, opts);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::string Base64Decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const size_t v = kAlphabet.find(c);
    EXPECT_NE(v, std::string::npos) << "not base64: " << in;
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  return out;
}

// libprotobuf prints bytes as base64; OTLP/JSON wants trace and span ids as
// hex. The id keys occur only in Span, Span.Link, LogRecord and Exemplar.
void IdsToHex(json* j) {
  if (j->is_object()) {
    for (auto& [key, value] : j->items()) {
      if ((key == "traceId" || key == "spanId" || key == "parentSpanId") && value.is_string()) {
        value = tw_test::Hex(Base64Decode(value.get<std::string>()));
      } else {
        IdsToHex(&value);
      }
    }
  } else if (j->is_array()) {
    for (auto& e : *j) IdsToHex(&e);
  }
}

// Structural equality; numbers compare as doubles (libprotobuf and we may
// format them differently).
::testing::AssertionResult JsonEq(const json& want, const json& got, const std::string& path) {
  if (want.is_number() && got.is_number()) {
    const double a = want.get<double>(), b = got.get<double>();
    if (a == b) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << path << ": number " << want.dump() << " != " << got.dump();
  }
  if (want.type() != got.type()) {
    return ::testing::AssertionFailure()
           << path << ": " << want.dump() << " vs " << got.dump() << " (different types)";
  }
  if (want.is_object()) {
    std::set<std::string> a, b;
    for (auto it = want.begin(); it != want.end(); ++it) a.insert(it.key());
    for (auto it = got.begin(); it != got.end(); ++it) b.insert(it.key());
    if (a != b) {
      std::string wk, gk;
      for (const auto& k : a) wk += k + " ";
      for (const auto& k : b) gk += k + " ";
      return ::testing::AssertionFailure() << path << ": keys {" << wk << "} vs {" << gk << "}";
    }
    for (const auto& k : a) {
      auto r = JsonEq(want.at(k), got.at(k), path + "." + k);
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (want.is_array()) {
    if (want.size() != got.size()) {
      return ::testing::AssertionFailure()
             << path << ": " << want.size() << " elements vs " << got.size();
    }
    for (size_t i = 0; i < want.size(); ++i) {
      auto r = JsonEq(want[i], got[i], path + "[" + std::to_string(i) + "]");
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (want == got) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << path << ": " << want.dump() << " != " << got.dump();
}

// Our JSON of `bytes` (a `desc`) against libprotobuf's JSON of `m`.
::testing::AssertionResult SameJson(std::string_view bytes, const MessageDesc& desc,
                                    const Message& m) {
  const std::string ours = OurJson(bytes, desc);
  json got, want;
  try {
    got = json::parse(ours);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "our JSON does not parse: " << e.what() << "\n"
                                         << ours;
  }
  want = json::parse(LibJson(m));
  IdsToHex(&want);
  auto r = JsonEq(want, got, "$");
  if (!r) r << "\nours: " << ours;
  return r;
}

::testing::AssertionResult SameJson(const Message& m, const MessageDesc& desc) {
  return SameJson(m.SerializeAsString(), desc, m);
}

const MessageDesc& RequestDesc(const TraceRequest&) { return schema::kExportTraceServiceRequest; }
const MessageDesc& RequestDesc(const MetricsRequest&) {
  return schema::kExportMetricsServiceRequest;
}
const MessageDesc& RequestDesc(const LogsRequest&) { return schema::kExportLogsServiceRequest; }

// ---- The schema against the .proto descriptors ---------------------------------

struct DescPair {
  const MessageDesc* ours;
  const google::protobuf::Descriptor* theirs;
};

FieldKind KindOf(const google::protobuf::FieldDescriptor* fd) {
  using T = google::protobuf::FieldDescriptor;
  switch (fd->type()) {
    case T::TYPE_STRING:
      return FieldKind::kString;
    case T::TYPE_BYTES: {
      const std::string& n = fd->name();
      return n == "trace_id" || n == "span_id" || n == "parent_span_id" ? FieldKind::kId
                                                                         : FieldKind::kBytes;
    }
    case T::TYPE_BOOL:
      return FieldKind::kBool;
    case T::TYPE_INT32:
      return FieldKind::kInt32;
    case T::TYPE_INT64:
      return FieldKind::kInt64;
    case T::TYPE_UINT32:
      return FieldKind::kUint32;
    case T::TYPE_UINT64:
      return FieldKind::kUint64;
    case T::TYPE_SINT32:
      return FieldKind::kSint32;
    case T::TYPE_SINT64:
      return FieldKind::kSint64;
    case T::TYPE_FIXED32:
      return FieldKind::kFixed32;
    case T::TYPE_FIXED64:
      return FieldKind::kFixed64;
    case T::TYPE_SFIXED64:
      return FieldKind::kSfixed64;
    case T::TYPE_DOUBLE:
      return FieldKind::kDouble;
    case T::TYPE_ENUM:
      return FieldKind::kEnum;
    case T::TYPE_MESSAGE:
      return FieldKind::kMessage;
    default:
      ADD_FAILURE() << "unexpected type in " << fd->full_name();
      return FieldKind::kMessage;
  }
}

void CheckSchema(const MessageDesc& ours, const google::protobuf::Descriptor* theirs,
                 std::set<const MessageDesc*>* seen) {
  if (!seen->insert(&ours).second) return;
  SCOPED_TRACE(theirs->full_name());
  EXPECT_EQ(std::string(ours.full_name), theirs->full_name());
  ASSERT_EQ(ours.field_count, static_cast<size_t>(theirs->field_count()));
  for (int i = 0; i < theirs->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* fd = theirs->field(i);
    SCOPED_TRACE(fd->name());
    const FieldDesc* f = ours.Find(static_cast<uint32_t>(fd->number()));
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f, &ours.fields[i]) << "declaration order";
    EXPECT_EQ(f->number, static_cast<uint32_t>(fd->number()));
    EXPECT_EQ(std::string(f->json_name), fd->json_name());
    EXPECT_EQ(f->kind, KindOf(fd));
    EXPECT_EQ(f->repeated, fd->is_repeated());
    EXPECT_EQ(f->has_presence, fd->has_presence());
    const google::protobuf::OneofDescriptor* oneof = fd->real_containing_oneof();
    EXPECT_EQ(f->oneof, oneof == nullptr ? 0 : oneof->index() + 1);
    if (fd->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
      ASSERT_NE(f->message, nullptr);
      CheckSchema(*f->message, fd->message_type(), seen);
    } else {
      EXPECT_EQ(f->message, nullptr);
    }
  }
  // Numbers that are not fields are unknown.
  for (uint32_t n : {0u, 17u, 31u, 32u, 33u, 100u, 1000u, 536870911u}) {
    if (theirs->FindFieldByNumber(static_cast<int>(n)) == nullptr) {
      EXPECT_EQ(ours.Find(n), nullptr) << n;
    }
  }
}

TEST(OtlpJson, SchemaMatchesTheProtoDescriptors) {
  std::set<const MessageDesc*> seen;
  CheckSchema(schema::kExportTraceServiceRequest, TraceRequest::descriptor(), &seen);
  CheckSchema(schema::kExportMetricsServiceRequest, MetricsRequest::descriptor(), &seen);
  CheckSchema(schema::kExportLogsServiceRequest, LogsRequest::descriptor(), &seen);
  // Every message type of the schema is reachable from the three requests.
  EXPECT_EQ(seen.size(), 34u);
  EXPECT_TRUE(seen.count(&schema::kEntityRef));
  EXPECT_TRUE(seen.count(&schema::kBuckets));
  EXPECT_TRUE(seen.count(&schema::kValueAtQuantile));
}

TEST(OtlpJson, WireTypesOfKinds) {
  EXPECT_EQ(ExpectedWireType(FieldKind::kString), WireType::kLen);
  EXPECT_EQ(ExpectedWireType(FieldKind::kId), WireType::kLen);
  EXPECT_EQ(ExpectedWireType(FieldKind::kMessage), WireType::kLen);
  EXPECT_EQ(ExpectedWireType(FieldKind::kFixed32), WireType::kFixed32);
  EXPECT_EQ(ExpectedWireType(FieldKind::kFixed64), WireType::kFixed64);
  EXPECT_EQ(ExpectedWireType(FieldKind::kSfixed64), WireType::kFixed64);
  EXPECT_EQ(ExpectedWireType(FieldKind::kDouble), WireType::kFixed64);
  EXPECT_EQ(ExpectedWireType(FieldKind::kSint32), WireType::kVarint);
  EXPECT_EQ(ExpectedWireType(FieldKind::kEnum), WireType::kVarint);
  EXPECT_TRUE(IsPackable(FieldKind::kUint64));
  EXPECT_TRUE(IsPackable(FieldKind::kDouble));
  EXPECT_FALSE(IsPackable(FieldKind::kString));
  EXPECT_FALSE(IsPackable(FieldKind::kBytes));
  EXPECT_FALSE(IsPackable(FieldKind::kId));
  EXPECT_FALSE(IsPackable(FieldKind::kMessage));
}

// ---- Against libprotobuf ------------------------------------------------------------

TEST(OtlpJson, EveryFieldRequestsMatchLibprotobuf) {
  EXPECT_TRUE(SameJson(tw_test::EveryFieldTraceRequest(), schema::kExportTraceServiceRequest));
  EXPECT_TRUE(
      SameJson(tw_test::EveryFieldMetricsRequest(), schema::kExportMetricsServiceRequest));
  EXPECT_TRUE(SameJson(tw_test::EveryFieldLogsRequest(), schema::kExportLogsServiceRequest));
}

TEST(OtlpJson, EveryFieldItemsMatchLibprotobuf) {
  // Items and inner messages on their own, with their own descriptors.
  const TraceRequest t = tw_test::EveryFieldTraceRequest();
  const ott::Span& span = t.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_TRUE(SameJson(span, schema::kSpan));
  EXPECT_TRUE(SameJson(span.events(0), schema::kSpanEvent));
  EXPECT_TRUE(SameJson(span.links(0), schema::kSpanLink));
  EXPECT_TRUE(SameJson(span.status(), schema::kStatus));
  EXPECT_TRUE(SameJson(t.resource_spans(0).resource(), schema::kResource));
  EXPECT_TRUE(SameJson(t.resource_spans(0).scope_spans(0).scope(), schema::kInstrumentationScope));
  const MetricsRequest m = tw_test::EveryFieldMetricsRequest();
  for (const otm::Metric& metric : m.resource_metrics(0).scope_metrics(0).metrics()) {
    EXPECT_TRUE(SameJson(metric, schema::kMetric)) << metric.name();
  }
  const LogsRequest l = tw_test::EveryFieldLogsRequest();
  EXPECT_TRUE(SameJson(l.resource_logs(0).scope_logs(0).log_records(0), schema::kLogRecord));
  EXPECT_TRUE(SameJson(l.resource_logs(0).scope_logs(0).log_records(0).body(), schema::kAnyValue));
}

template <typename Req>
void RandomAgainstLibprotobuf(Req (tw_test::RandomOtlp::*make)(), uint64_t first_seed) {
  size_t total = 0;
  for (uint64_t seed = first_seed; seed < first_seed + 200; ++seed) {
    tw_test::RandomOtlp g(seed);
    const Req req = (g.*make)();
    total += req.ByteSizeLong();
    EXPECT_TRUE(SameJson(req, RequestDesc(req))) << "seed " << seed;
  }
  EXPECT_GT(total, 100000u) << "the random requests should not be trivial";
}

TEST(OtlpJson, RandomTracesMatchLibprotobuf) {
  RandomAgainstLibprotobuf<TraceRequest>(&tw_test::RandomOtlp::Traces, 1);
}
TEST(OtlpJson, RandomMetricsMatchLibprotobuf) {
  RandomAgainstLibprotobuf<MetricsRequest>(&tw_test::RandomOtlp::Metrics, 1);
}
TEST(OtlpJson, RandomLogsMatchLibprotobuf) {
  RandomAgainstLibprotobuf<LogsRequest>(&tw_test::RandomOtlp::Logs, 1);
}

TEST(OtlpJson, OneWriterForManyMessages) {
  // Scratch space is reused between calls; output is appended.
  JsonWriter w;
  std::string all;
  std::vector<std::string> each;
  for (uint64_t seed = 300; seed < 320; ++seed) {
    tw_test::RandomOtlp g(seed);
    const std::string bytes = (seed % 2 ? g.Traces().SerializeAsString()
                                        : g.Logs().SerializeAsString());
    const MessageDesc& d =
        seed % 2 ? schema::kExportTraceServiceRequest : schema::kExportLogsServiceRequest;
    std::string one;
    ASSERT_TRUE(w.Append(bytes, d, &one));
    EXPECT_EQ(one, OurJson(bytes, d)) << "a fresh writer gives the same";
    ASSERT_TRUE(w.Append(bytes, d, &all));
    all.push_back('\n');
    each.push_back(one);
  }
  std::string joined;
  for (const std::string& e : each) joined += e + "\n";
  EXPECT_EQ(all, joined);
}

// ---- Exact output --------------------------------------------------------------------

TEST(OtlpJson, EmptyRequestIsEmptyObject) {
  EXPECT_EQ(OurJson("", schema::kExportTraceServiceRequest), "{}");
  EXPECT_EQ(OurJson("", schema::kExportMetricsServiceRequest), "{}");
  EXPECT_EQ(OurJson("", schema::kExportLogsServiceRequest), "{}");
  EXPECT_EQ(OurJson("", schema::kSpan), "{}");
  TraceRequest r;
  r.add_resource_spans();
  EXPECT_EQ(OurJson(r.SerializeAsString(), schema::kExportTraceServiceRequest),
            "{\"resourceSpans\":[{}]}");
}

TEST(OtlpJson, SpanExactly) {
  ott::Span s;
  s.set_trace_id(tw_test::SeqBytes(16, 1));
  s.set_span_id(std::string("\x00\xff\x10\xab\xcd\xef\x01\x80", 8));
  s.set_flags(0x101);
  s.set_name("GET /a\"b\\c\nd\re\tf\x01\x1f\x7f </script> caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80");
  s.set_kind(ott::Span::SPAN_KIND_CLIENT);
  s.set_start_time_unix_nano(1);
  s.set_end_time_unix_nano(18446744073709551615ull);
  s.set_dropped_attributes_count(4294967295u);
  s.mutable_status()->set_code(ott::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(OurJson(s.SerializeAsString(), schema::kSpan),
            "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\","
            "\"spanId\":\"00ff10abcdef0180\","
            "\"flags\":257,"
            "\"name\":\"GET /a\\\"b\\\\c\\nd\\re\\tf\\u0001\\u001f\x7f </script> caf\xc3\xa9 "
            "\xe2\x80\xa8 \xf0\x9f\x98\x80\","
            "\"kind\":3,"
            "\"startTimeUnixNano\":\"1\","
            "\"endTimeUnixNano\":\"18446744073709551615\","
            "\"droppedAttributesCount\":4294967295,"
            "\"status\":{\"code\":2}}");
  EXPECT_TRUE(SameJson(s, schema::kSpan));
}

TEST(OtlpJson, EveryControlCharacterIsEscaped) {
  std::string all;
  for (int c = 0; c < 0x20; ++c) all.push_back(static_cast<char>(c));
  std::string out;
  AppendJsonString(all, &out);
  EXPECT_EQ(out,
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\u0008\\t\\n\\u000b"
            "\\u000c\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
            "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
  EXPECT_EQ(json::parse(out).get<std::string>(), all);
  out.clear();
  AppendJsonString("", &out);
  EXPECT_EQ(out, "\"\"");
  out.clear();
  AppendJsonString("plain", &out);
  EXPECT_EQ(out, "\"plain\"");
  out.clear();
  AppendJsonString("\"\\\"", &out);
  EXPECT_EQ(out, "\"\\\"\\\\\\\"\"");
  // Appends.
  AppendJsonString("x", &out);
  EXPECT_EQ(out, "\"\\\"\\\\\\\"\"\"x\"");
}

std::string AnyValueJson(const otc::AnyValue& v) {
  return OurJson(v.SerializeAsString(), schema::kAnyValue);
}

TEST(OtlpJson, AnyValueScalarsExactly) {
  otc::AnyValue v;
  auto check = [&](const std::string& want) {
    EXPECT_EQ(AnyValueJson(v), want);
    EXPECT_TRUE(SameJson(v, schema::kAnyValue));
  };
  check("{}");
  v.set_double_value(std::numeric_limits<double>::quiet_NaN());
  check("{\"doubleValue\":\"NaN\"}");
  v.set_double_value(std::numeric_limits<double>::infinity());
  check("{\"doubleValue\":\"Infinity\"}");
  v.set_double_value(-std::numeric_limits<double>::infinity());
  check("{\"doubleValue\":\"-Infinity\"}");
  v.set_double_value(0.0);
  check("{\"doubleValue\":0}");
  v.set_double_value(1.5);
  check("{\"doubleValue\":1.5}");
  v.set_double_value(0.1);
  check("{\"doubleValue\":0.1}");
  v.set_double_value(1e100);
  check("{\"doubleValue\":1e+100}");
  v.set_double_value(-2.5e-300);
  check("{\"doubleValue\":-2.5e-300}");
  v.set_int_value(std::numeric_limits<int64_t>::min());
  check("{\"intValue\":\"-9223372036854775808\"}");
  v.set_int_value(std::numeric_limits<int64_t>::max());
  check("{\"intValue\":\"9223372036854775807\"}");
  v.set_int_value(0);
  check("{\"intValue\":\"0\"}");
  v.set_bool_value(false);
  check("{\"boolValue\":false}");
  v.set_bool_value(true);
  check("{\"boolValue\":true}");
  v.set_string_value("");
  check("{\"stringValue\":\"\"}");
  v.set_bytes_value("");
  check("{\"bytesValue\":\"\"}");
  v.set_bytes_value("a");
  check("{\"bytesValue\":\"YQ==\"}");
  v.set_bytes_value("ab");
  check("{\"bytesValue\":\"YWI=\"}");
  v.set_bytes_value("abc");
  check("{\"bytesValue\":\"YWJj\"}");
  v.set_bytes_value(std::string("\xff\xfe\xfd\xfc\x00", 5));
  check("{\"bytesValue\":\"//79/AA=\"}");
  v.mutable_array_value();
  check("{\"arrayValue\":{}}");
  v.mutable_array_value()->add_values()->set_int_value(7);
  v.mutable_array_value()->add_values();
  check("{\"arrayValue\":{\"values\":[{\"intValue\":\"7\"},{}]}}");
  v.mutable_kvlist_value()->add_values()->set_key("k");
  check("{\"kvlistValue\":{\"values\":[{\"key\":\"k\"}]}}");
}

TEST(OtlpJson, NegativeZeroIsPrinted) {
  // A double without presence is left out when +0 only: -0.0 is on the wire
  // and libprotobuf prints it.
  otm::ExponentialHistogramDataPoint p;
  p.set_zero_threshold(-0.0);
  ASSERT_FALSE(p.SerializeAsString().empty());
  EXPECT_EQ(OurJson(p.SerializeAsString(), schema::kExponentialHistogramDataPoint),
            "{\"zeroThreshold\":-0}");
  EXPECT_TRUE(SameJson(p, schema::kExponentialHistogramDataPoint));
}

TEST(OtlpJson, PresenceAndDefaults) {
  otm::HistogramDataPoint p;
  p.set_sum(0);  // optional: printed although zero
  p.set_count(0);
  p.set_flags(0);
  EXPECT_EQ(OurJson(p.SerializeAsString(), schema::kHistogramDataPoint), "{\"sum\":0}");
  EXPECT_TRUE(SameJson(p, schema::kHistogramDataPoint));
  p.set_min(-1);
  p.set_max(0);
  p.add_bucket_counts(0);
  p.add_explicit_bounds(0);
  EXPECT_EQ(OurJson(p.SerializeAsString(), schema::kHistogramDataPoint),
            "{\"sum\":0,\"bucketCounts\":[\"0\"],\"explicitBounds\":[0],\"min\":-1,\"max\":0}");
  EXPECT_TRUE(SameJson(p, schema::kHistogramDataPoint));

  otm::ExponentialHistogramDataPoint e;
  e.set_scale(-3);
  e.mutable_negative();
  e.mutable_positive()->set_offset(-2147483647 - 1);
  e.mutable_positive()->add_bucket_counts(18446744073709551615ull);
  EXPECT_EQ(OurJson(e.SerializeAsString(), schema::kExponentialHistogramDataPoint),
            "{\"scale\":-3,\"positive\":{\"offset\":-2147483648,\"bucketCounts\":"
            "[\"18446744073709551615\"]},\"negative\":{}}");
  EXPECT_TRUE(SameJson(e, schema::kExponentialHistogramDataPoint));

  otm::Exemplar x;
  x.set_as_int(0);
  EXPECT_EQ(OurJson(x.SerializeAsString(), schema::kExemplar), "{\"asInt\":\"0\"}");
  EXPECT_TRUE(SameJson(x, schema::kExemplar));
}

TEST(OtlpJson, EnumsAreIntegers) {
  ott::Span s;
  s.set_kind(static_cast<ott::Span::SpanKind>(1000));  // unknown values stay numbers
  EXPECT_EQ(OurJson(s.SerializeAsString(), schema::kSpan), "{\"kind\":1000}");
  EXPECT_TRUE(SameJson(s, schema::kSpan));
  s.set_kind(static_cast<ott::Span::SpanKind>(-5));  // a 10-byte varint on the wire
  EXPECT_EQ(OurJson(s.SerializeAsString(), schema::kSpan), "{\"kind\":-5}");
  EXPECT_TRUE(SameJson(s, schema::kSpan));
  otl::LogRecord l;
  l.set_severity_number(otl::SEVERITY_NUMBER_ERROR);
  EXPECT_EQ(OurJson(l.SerializeAsString(), schema::kLogRecord), "{\"severityNumber\":17}");
  otm::Sum sum;
  sum.set_aggregation_temporality(otm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  sum.set_is_monotonic(true);
  EXPECT_EQ(OurJson(sum.SerializeAsString(), schema::kSum),
            "{\"aggregationTemporality\":2,\"isMonotonic\":true}");
}

// ---- Hand-written wire input ------------------------------------------------------

std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string Tag(uint32_t number, int wt) { return Varint((uint64_t{number} << 3) | wt); }
std::string Fixed64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}
std::string Len(uint32_t number, const std::string& payload) {
  return Tag(number, 2) + Varint(payload.size()) + payload;
}

// Parses `bytes` with libprotobuf as `M` and compares the two JSON forms.
template <typename M>
void ExpectSameJsonForWire(const std::string& bytes, const MessageDesc& desc) {
  SCOPED_TRACE(tw_test::Hex(bytes));
  M m;
  ASSERT_TRUE(m.ParseFromString(bytes));
  EXPECT_TRUE(SameJson(bytes, desc, m));
}

TEST(OtlpJson, PackedAndUnpackedRepeatedFields) {
  // bucket_counts (fixed64) and explicit_bounds (double): packed, unpacked and
  // both mixed; libprotobuf accepts all forms.
  std::string packed_counts = Fixed64(1) + Fixed64(2);
  const std::string unpacked = Tag(6, 1) + Fixed64(3) + Tag(6, 1) + Fixed64(4);
  double b = 2.5;
  uint64_t bits;
  std::memcpy(&bits, &b, 8);
  const std::string bounds = Len(7, Fixed64(bits)) + Tag(7, 1) + Fixed64(bits);
  for (const std::string& wire : {Len(6, packed_counts), unpacked, Len(6, packed_counts) + unpacked,
                                  unpacked + bounds + Len(6, packed_counts)}) {
    ExpectSameJsonForWire<otm::HistogramDataPoint>(wire, schema::kHistogramDataPoint);
  }
  EXPECT_EQ(OurJson(unpacked + Len(6, packed_counts), schema::kHistogramDataPoint),
            "{\"bucketCounts\":[\"3\",\"4\",\"1\",\"2\"]}");
  // Buckets.bucket_counts (uint64 varints).
  const std::string varints = Varint(5) + Varint(300) + Varint(18446744073709551615ull);
  for (const std::string& wire :
       {Len(2, varints), Tag(2, 0) + Varint(7) + Len(2, varints) + Tag(2, 0) + Varint(0),
        Len(2, "")}) {
    ExpectSameJsonForWire<otm::ExponentialHistogramDataPoint::Buckets>(wire, schema::kBuckets);
  }
  EXPECT_EQ(OurJson(Tag(2, 0) + Varint(7) + Len(2, varints), schema::kBuckets),
            "{\"bucketCounts\":[\"7\",\"5\",\"300\",\"18446744073709551615\"]}");
}

TEST(OtlpJson, UnknownFieldsAndWrongWireTypesAreSkipped) {
  ott::Span s;
  s.set_name("n");
  s.set_trace_id(tw_test::SeqBytes(16, 1));
  google::protobuf::UnknownFieldSet* u = s.GetReflection()->MutableUnknownFields(&s);
  u->AddVarint(1000, 1);
  u->AddLengthDelimited(1001, "\xff");
  u->AddGroup(1002)->AddVarint(1, 1);
  u->AddFixed32(1003, 1);
  u->AddVarint(5, 1);       // name as a varint
  u->AddFixed64(6, 1);      // kind as fixed64
  u->AddLengthDelimited(7, "12345678");  // start time as bytes
  u->AddVarint(9, 1);       // attributes as a varint
  EXPECT_EQ(OurJson(s.SerializeAsString(), schema::kSpan),
            "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"name\":\"n\"}");
  EXPECT_TRUE(SameJson(s, schema::kSpan));
}

TEST(OtlpJson, LastScalarWins) {
  const std::string wire = Len(5, "first") + Tag(6, 0) + Varint(1) + Len(5, "second") +
                           Tag(6, 0) + Varint(3) + Tag(7, 1) + Fixed64(5) + Tag(7, 1) +
                           Fixed64(0);
  EXPECT_EQ(OurJson(wire, schema::kSpan), "{\"name\":\"second\",\"kind\":3}");
  ExpectSameJsonForWire<ott::Span>(wire, schema::kSpan);
}

TEST(OtlpJson, NonCanonicalVarintsMatchLibprotobuf) {
  // 32-bit fields keep the low 32 bits of the varint, as libprotobuf does.
  const uint64_t kHigh = uint64_t{1} << 32;
  // uint32 dropped_attributes_count (4) whose low 32 bits are zero: default.
  ExpectSameJsonForWire<otc::InstrumentationScope>(Tag(4, 0) + Varint(kHigh),
                                                   schema::kInstrumentationScope);
  ExpectSameJsonForWire<otc::InstrumentationScope>(Tag(4, 0) + Varint(kHigh + 7),
                                                   schema::kInstrumentationScope);
  // Enum with high bits.
  ExpectSameJsonForWire<ott::Status>(Tag(3, 0) + Varint(kHigh), schema::kStatus);
  ExpectSameJsonForWire<ott::Status>(Tag(3, 0) + Varint(kHigh + 2), schema::kStatus);
  // sint32 offset and scale with high bits set.
  for (uint64_t v : std::vector<uint64_t>{kHigh + 1, kHigh + 2, kHigh, 0xFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull,
                     0x1FFFFFFFEull}) {
    ExpectSameJsonForWire<otm::ExponentialHistogramDataPoint::Buckets>(Tag(1, 0) + Varint(v),
                                                                      schema::kBuckets);
    ExpectSameJsonForWire<otm::ExponentialHistogramDataPoint>(
        Tag(6, 0) + Varint(v), schema::kExponentialHistogramDataPoint);
  }
  // bool with a large value.
  ExpectSameJsonForWire<otm::Sum>(Tag(3, 0) + Varint(kHigh), schema::kSum);
  ExpectSameJsonForWire<otc::AnyValue>(Tag(2, 0) + Varint(2), schema::kAnyValue);
  // Padded varints.
  ExpectSameJsonForWire<ott::Span>(Tag(6, 0) + std::string("\x82\x80\x80\x00", 4), schema::kSpan);
}

TEST(OtlpJson, OneofMembersReplaceEachOther) {
  // Setting another member of a oneof clears the previous one; libprotobuf
  // keeps only the last, and so must the JSON (two members are not OTLP/JSON).
  const std::string any_int = Tag(3, 0) + Varint(5);
  const std::string array_a = Len(5, Len(1, Len(1, "a")));
  const std::string array_b = Len(5, Len(1, Tag(2, 0) + Varint(1)));
  struct Case {
    std::string wire;
    std::string want;
  };
  const Case any_cases[] = {
      {Len(1, "s") + any_int, "{\"intValue\":\"5\"}"},
      {any_int + Len(1, "s"), "{\"stringValue\":\"s\"}"},
      {array_a + Len(1, "s") + array_b, "{\"arrayValue\":{\"values\":[{\"boolValue\":true}]}}"},
      {array_a + array_b,
       "{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},{\"boolValue\":true}]}}"},
      {array_a + any_int + Tag(4, 1) + Fixed64(0), "{\"doubleValue\":0}"},
      {Len(7, "") + Len(6, "") + Tag(2, 0) + Varint(0), "{\"boolValue\":false}"},
      // A member with the wrong wire type is an unknown field: it clears nothing.
      {Len(1, "s") + Tag(3, 2) + Varint(0), "{\"stringValue\":\"s\"}"},
  };
  for (const Case& c : any_cases) {
    EXPECT_EQ(OurJson(c.wire, schema::kAnyValue), c.want) << tw_test::Hex(c.wire);
    ExpectSameJsonForWire<otc::AnyValue>(c.wire, schema::kAnyValue);
  }
  // NumberDataPoint and Exemplar values.
  double d = 1.5;
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  const std::string as_double = Tag(4, 1) + Fixed64(bits), as_int = Tag(6, 1) + Fixed64(9);
  EXPECT_EQ(OurJson(as_double + as_int, schema::kNumberDataPoint), "{\"asInt\":\"9\"}");
  ExpectSameJsonForWire<otm::NumberDataPoint>(as_double + as_int, schema::kNumberDataPoint);
  ExpectSameJsonForWire<otm::NumberDataPoint>(as_int + as_double, schema::kNumberDataPoint);
  const std::string ex = Tag(6, 1) + Fixed64(9) + Tag(3, 1) + Fixed64(bits);
  EXPECT_EQ(OurJson(ex, schema::kExemplar), "{\"asDouble\":1.5}");
  ExpectSameJsonForWire<otm::Exemplar>(ex, schema::kExemplar);
  // Metric data.
  const std::string gauge = Len(5, Len(1, as_int)), sum = Len(7, Len(1, as_double));
  for (const std::string& wire : {gauge + sum, sum + gauge, gauge + sum + gauge, gauge + gauge}) {
    ExpectSameJsonForWire<otm::Metric>(Len(1, "m") + wire, schema::kMetric);
  }
  EXPECT_EQ(OurJson(gauge + sum, schema::kMetric),
            "{\"sum\":{\"dataPoints\":[{\"asDouble\":1.5}]}}");
}

TEST(OtlpJson, RepeatedMessageFieldsMerge) {
  // A singular message field that occurs twice is the merge of both.
  const std::string status = Len(15, Len(2, "first")) + Len(15, Tag(3, 0) + Varint(2));
  EXPECT_EQ(OurJson(status, schema::kSpan), "{\"status\":{\"message\":\"first\",\"code\":2}}");
  ExpectSameJsonForWire<ott::Span>(status, schema::kSpan);
  // Nested: the merged messages' own message fields merge too; repeated ones
  // concatenate; scalars: last wins.
  const std::string scope1 = Len(1, Len(1, "a") + Len(3, Len(1, "k1")) + Tag(4, 0) + Varint(1));
  const std::string scope2 = Len(1, Len(2, "v") + Len(3, Len(1, "k2")) + Tag(4, 0) + Varint(7));
  ExpectSameJsonForWire<ott::ScopeSpans>(scope1 + Len(3, "url") + scope2, schema::kScopeSpans);
  EXPECT_EQ(OurJson(scope1 + scope2, schema::kScopeSpans),
            "{\"scope\":{\"name\":\"a\",\"version\":\"v\",\"attributes\":[{\"key\":\"k1\"},"
            "{\"key\":\"k2\"}],\"droppedAttributesCount\":7}}");
  // Buckets, KeyValue.value, LogRecord.body.
  const std::string pos = Len(8, Tag(1, 0) + Varint(3)) + Len(8, Len(2, Varint(4)));
  ExpectSameJsonForWire<otm::ExponentialHistogramDataPoint>(pos,
                                                           schema::kExponentialHistogramDataPoint);
  const std::string kv = Len(1, "k") + Len(2, Len(5, "")) + Len(2, Len(5, Len(1, Tag(2, 0) + Varint(1))));
  ExpectSameJsonForWire<otc::KeyValue>(kv, schema::kKeyValue);
  const std::string body = Len(5, Len(6, Len(1, Len(1, "x")))) + Len(5, Len(6, Len(1, Len(1, "y"))));
  ExpectSameJsonForWire<otl::LogRecord>(body, schema::kLogRecord);
}

TEST(OtlpJson, MalformedInputIsRefused) {
  JsonWriter w;
  const std::vector<std::pair<std::string, const MessageDesc*>> cases = {
      {std::string("\x0a\x05" "ab"), &schema::kSpan},  // length past the end
      {std::string("\x0f"), &schema::kSpan},            // wire type 7
      {std::string("\x08"), &schema::kSpan},            // truncated varint
      {Len(15, "\x1a"), &schema::kSpan},                // malformed nested message
      {Len(9, Len(2, Len(5, "\x80"))), &schema::kSpan},  // deeper still
      {Len(6, "1234567"), &schema::kHistogramDataPoint},  // packed fixed64, 7 bytes
      {Len(7, "123"), &schema::kHistogramDataPoint},      // packed double, 3 bytes
      {Len(2, "\x80"), &schema::kBuckets},               // packed varint, truncated
  };
  for (const auto& [bad, desc] : cases) {
    std::string out;
    ExactBuffer buf(bad);
    EXPECT_FALSE(w.Append(buf.view(), *desc, &out)) << tw_test::Hex(bad);
  }
  // The writer still works afterwards.
  std::string out;
  EXPECT_TRUE(w.Append(Len(5, "ok"), schema::kSpan, &out));
  EXPECT_EQ(out, "{\"name\":\"ok\"}");
}

// ---- Corrupted input that both parsers accept ------------------------------------

TEST(OtlpJson, CorruptedRequestsThatParseMatchLibprotobuf) {
  google::protobuf::LogSilencer quiet;
  std::mt19937_64 rng(2024);
  std::vector<std::pair<std::string, int>> corpus;
  for (uint64_t seed = 500; seed < 510; ++seed) {
    tw_test::RandomOtlp g(seed);
    corpus.push_back({g.Traces().SerializeAsString(), 0});
    corpus.push_back({g.Metrics().SerializeAsString(), 1});
    corpus.push_back({g.Logs().SerializeAsString(), 2});
  }
  int compared = 0;
  for (int it = 0; it < 3000; ++it) {
    auto [b, kind] = corpus[rng() % corpus.size()];
    if (b.empty()) continue;
    for (int e = 1 + static_cast<int>(rng() % 2); e > 0; --e) {
      const size_t at = rng() % b.size();
      b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8)));
    }
    std::unique_ptr<Message> m;
    if (kind == 0) m = std::make_unique<TraceRequest>();
    if (kind == 1) m = std::make_unique<MetricsRequest>();
    if (kind == 2) m = std::make_unique<LogsRequest>();
    const Signal sig = static_cast<Signal>(kind);
    const MessageDesc& desc = kind == 0   ? schema::kExportTraceServiceRequest
                              : kind == 1 ? schema::kExportMetricsServiceRequest
                                          : schema::kExportLogsServiceRequest;
    if (!m->ParseFromString(b)) continue;
    ExactBuffer buf(b);
    if (!ReadExportRequest(sig, buf.view()).ok()) continue;  // see the reader tests
    ++compared;
    EXPECT_TRUE(SameJson(buf.view(), desc, *m)) << "iteration " << it << ": " << tw_test::Hex(b);
  }
  EXPECT_GT(compared, 300);
}

}  // namespace
}  // namespace tracewire::wire
