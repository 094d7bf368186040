#include "wire/otlp_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "wire/test_messages.h"
#include "wire/utf8.h"

namespace tracewire::wire {
namespace {

using ::google::protobuf::Message;
using tw_test::ExactBuffer;
using tw_test::LogsRequest;
using tw_test::MetricsRequest;
using tw_test::TraceRequest;
namespace otc = tw_test::otc;
namespace ott = tw_test::ott;
namespace otm = tw_test::otm;
namespace otl = tw_test::otl;

// ---- Comparison helpers -----------------------------------------------------

::testing::AssertionResult SameMessage(const Message& want, const Message& got) {
  google::protobuf::util::MessageDifferencer d;
  google::protobuf::util::DefaultFieldComparator cmp;
  cmp.set_treat_nan_as_equal(true);
  d.set_field_comparator(&cmp);
  std::string diff;
  d.ReportDifferencesToString(&diff);
  if (d.Compare(want, got)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "messages differ:\n" << diff;
}

template <typename M>
::testing::AssertionResult ParsesTo(std::string_view bytes, const M& want) {
  M got;
  if (!got.ParseFromString(std::string(bytes))) {
    return ::testing::AssertionFailure() << "libprotobuf cannot parse the bytes";
  }
  return SameMessage(want, got);
}

bool AllZero(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

// ---- An oracle of the item rules, on libprotobuf objects ----------------------

struct Invalid {
  int ri, si, ii;
  std::string problem;
  int64_t count;  // items it holds
};

std::string SpanProblem(const ott::Span& s) {
  if (s.trace_id().size() != 16) {
    return "trace_id is " + std::to_string(s.trace_id().size()) + " bytes, want 16";
  }
  if (AllZero(s.trace_id())) return "trace_id is all zero";
  if (s.span_id().size() != 8) {
    return "span_id is " + std::to_string(s.span_id().size()) + " bytes, want 8";
  }
  if (AllZero(s.span_id())) return "span_id is all zero";
  if (!s.parent_span_id().empty() && s.parent_span_id().size() != 8) {
    return "parent_span_id is " + std::to_string(s.parent_span_id().size()) +
           " bytes, want 8 or 0";
  }
  if (s.end_time_unix_nano() < s.start_time_unix_nano()) {
    return "end_time_unix_nano " + std::to_string(s.end_time_unix_nano()) +
           " is before start_time_unix_nano " + std::to_string(s.start_time_unix_nano());
  }
  return "";
}

std::string MetricProblem(const otm::Metric& m) {
  if (m.name().empty()) return "metric has no name";
  const std::string quoted = "metric \"" + m.name() + "\"";
  if (m.data_case() == otm::Metric::DATA_NOT_SET) return quoted + " has no data field";
  if (m.has_histogram()) {
    for (int j = 0; j < m.histogram().data_points_size(); ++j) {
      const otm::HistogramDataPoint& p = m.histogram().data_points(j);
      if (p.bucket_counts_size() != 0 &&
          p.bucket_counts_size() != p.explicit_bounds_size() + 1) {
        return quoted + ": histogram data_points[" + std::to_string(j) + "] has " +
               std::to_string(p.bucket_counts_size()) + " bucket_counts for " +
               std::to_string(p.explicit_bounds_size()) + " explicit_bounds";
      }
    }
  }
  return "";
}

std::string IdProblem(const std::string& id, size_t want, const char* name) {
  if (id.empty()) return "";
  if (id.size() != want) {
    return std::string(name) + " is " + std::to_string(id.size()) + " bytes, want " +
           std::to_string(want);
  }
  if (AllZero(id)) return std::string(name) + " is all zero";
  return "";
}

std::string LogProblem(const otl::LogRecord& l) {
  std::string p = IdProblem(l.trace_id(), 16, "trace_id");
  if (p.empty()) p = IdProblem(l.span_id(), 8, "span_id");
  return p;
}

// Per-signal plumbing, so one set of checks serves all three.
template <typename Req>
struct Shape;

template <>
struct Shape<TraceRequest> {
  static constexpr Signal kSignal = Signal::kTraces;
  static constexpr const char* kNames[3] = {"resource_spans", "scope_spans", "spans"};
  static auto& Resources(TraceRequest& r) { return *r.mutable_resource_spans(); }
  static const auto& Resources(const TraceRequest& r) { return r.resource_spans(); }
  template <typename R>
  static auto& Scopes(R& r) { return *r.mutable_scope_spans(); }
  template <typename R>
  static const auto& ScopesOf(const R& r) { return r.scope_spans(); }
  template <typename S>
  static auto& Items(S& s) { return *s.mutable_spans(); }
  template <typename S>
  static const auto& ItemsOf(const S& s) { return s.spans(); }
  static std::string Problem(const ott::Span& s) { return SpanProblem(s); }
  static int64_t Count(const ott::Span&) { return 1; }
};

template <>
struct Shape<MetricsRequest> {
  static constexpr Signal kSignal = Signal::kMetrics;
  static constexpr const char* kNames[3] = {"resource_metrics", "scope_metrics", "metrics"};
  static auto& Resources(MetricsRequest& r) { return *r.mutable_resource_metrics(); }
  static const auto& Resources(const MetricsRequest& r) { return r.resource_metrics(); }
  template <typename R>
  static auto& Scopes(R& r) { return *r.mutable_scope_metrics(); }
  template <typename R>
  static const auto& ScopesOf(const R& r) { return r.scope_metrics(); }
  template <typename S>
  static auto& Items(S& s) { return *s.mutable_metrics(); }
  template <typename S>
  static const auto& ItemsOf(const S& s) { return s.metrics(); }
  static std::string Problem(const otm::Metric& m) { return MetricProblem(m); }
  static int64_t Count(const otm::Metric& m) { return tw_test::DataPointsOf(m); }
};

template <>
struct Shape<LogsRequest> {
  static constexpr Signal kSignal = Signal::kLogs;
  static constexpr const char* kNames[3] = {"resource_logs", "scope_logs", "log_records"};
  static auto& Resources(LogsRequest& r) { return *r.mutable_resource_logs(); }
  static const auto& Resources(const LogsRequest& r) { return r.resource_logs(); }
  template <typename R>
  static auto& Scopes(R& r) { return *r.mutable_scope_logs(); }
  template <typename R>
  static const auto& ScopesOf(const R& r) { return r.scope_logs(); }
  template <typename S>
  static auto& Items(S& s) { return *s.mutable_log_records(); }
  template <typename S>
  static const auto& ItemsOf(const S& s) { return s.log_records(); }
  static std::string Problem(const otl::LogRecord& l) { return LogProblem(l); }
  static int64_t Count(const otl::LogRecord&) { return 1; }
};

template <typename Req>
std::vector<Invalid> FindInvalid(const Req& req) {
  using S = Shape<Req>;
  std::vector<Invalid> out;
  for (int ri = 0; ri < S::Resources(req).size(); ++ri) {
    const auto& scopes = S::ScopesOf(S::Resources(req)[ri]);
    for (int si = 0; si < scopes.size(); ++si) {
      const auto& items = S::ItemsOf(scopes[si]);
      for (int ii = 0; ii < items.size(); ++ii) {
        std::string p = S::Problem(items[ii]);
        if (!p.empty()) out.push_back({ri, si, ii, p, S::Count(items[ii])});
      }
    }
  }
  return out;
}

template <typename Req>
int64_t CountItems(const Req& req) {
  using S = Shape<Req>;
  int64_t n = 0;
  for (const auto& r : S::Resources(req))
    for (const auto& s : S::ScopesOf(r))
      for (const auto& i : S::ItemsOf(s)) n += S::Count(i);
  return n;
}

template <typename Req>
int64_t CountScopes(const Req& req) {
  return tw_test::CountScopes(req);
}

template <typename Req>
Req WithoutItems(const Req& req, const std::vector<Invalid>& drop) {
  using S = Shape<Req>;
  Req out = req;
  for (auto it = drop.rbegin(); it != drop.rend(); ++it) {
    auto& items = S::Items(S::Scopes(S::Resources(out)[it->ri])[it->si]);
    items.DeleteSubrange(it->ii, 1);
  }
  return out;
}

template <typename Req>
std::string ExpectedErrorMessage(const std::vector<Invalid>& inv) {
  using S = Shape<Req>;
  std::string out;
  for (size_t k = 0; k < inv.size() && k < 3; ++k) {
    if (k > 0) out += "; ";
    out += std::string(S::kNames[0]) + "[" + std::to_string(inv[k].ri) + "]." + S::kNames[1] +
           "[" + std::to_string(inv[k].si) + "]." + S::kNames[2] + "[" +
           std::to_string(inv[k].ii) + "]: " + inv[k].problem;
  }
  if (inv.size() > 3) {
    out += "; and " + std::to_string(inv.size() - 3) + " more invalid " + S::kNames[2];
  }
  return out;
}

// ---- A visitor that records what it sees -----------------------------------

struct Recorder : RequestVisitor {
  std::vector<std::string_view> resources, scopes;
  std::vector<SpanView> spans;
  std::vector<MetricView> metrics;
  std::vector<LogRecordView> logs;
  void OnResource(std::string_view r) override { resources.push_back(r); }
  void OnScope(std::string_view s) override { scopes.push_back(s); }
  void OnSpan(const SpanView& v) override { spans.push_back(v); }
  void OnMetric(const MetricView& v) override { metrics.push_back(v); }
  void OnLogRecord(const LogRecordView& v) override { logs.push_back(v); }
};

void ExpectView(const SpanView& v, const ott::Span& s) {
  EXPECT_EQ(v.trace_id, s.trace_id());
  EXPECT_EQ(v.span_id, s.span_id());
  EXPECT_EQ(v.parent_span_id, s.parent_span_id());
  EXPECT_EQ(v.name, s.name());
  EXPECT_EQ(v.kind, static_cast<uint32_t>(s.kind()));
  EXPECT_EQ(v.start_time_unix_nano, s.start_time_unix_nano());
  EXPECT_EQ(v.end_time_unix_nano, s.end_time_unix_nano());
  EXPECT_TRUE(ParsesTo(v.raw, s));
}
void ExpectView(const MetricView& v, const otm::Metric& m) {
  EXPECT_EQ(v.name, m.name());
  EXPECT_EQ(v.data_field, static_cast<uint32_t>(m.data_case()));
  EXPECT_EQ(v.data_points, tw_test::DataPointsOf(m));
  EXPECT_TRUE(ParsesTo(v.raw, m));
}
void ExpectView(const LogRecordView& v, const otl::LogRecord& l) {
  EXPECT_EQ(v.time_unix_nano, l.time_unix_nano());
  EXPECT_EQ(v.severity_number, static_cast<uint32_t>(l.severity_number()));
  EXPECT_EQ(v.trace_id, l.trace_id());
  EXPECT_EQ(v.span_id, l.span_id());
  EXPECT_TRUE(ParsesTo(v.raw, l));
}

const std::vector<SpanView>& Seen(const Recorder& r, const TraceRequest*) { return r.spans; }
const std::vector<MetricView>& Seen(const Recorder& r, const MetricsRequest*) { return r.metrics; }
const std::vector<LogRecordView>& Seen(const Recorder& r, const LogsRequest*) { return r.logs; }

// Reads `bytes` (which libprotobuf parses as `req`) and checks every output
// against the oracle. With check_visitor, also what the visitor saw (only
// meaningful for bytes libprotobuf wrote: no repeated singular fields).
template <typename Req>
void CheckRead(std::string_view bytes, const Req& req, bool check_visitor) {
  using S = Shape<Req>;
  ExactBuffer buf(bytes);
  Recorder rec;
  absl::StatusOr<ReadResult> r = ReadExportRequest(S::kSignal, buf.view(), &rec);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<Invalid> inv = FindInvalid(req);
  int64_t rejected = 0;
  for (const Invalid& i : inv) rejected += i.count;
  EXPECT_EQ(r->items, CountItems(req));
  EXPECT_EQ(r->rejected, rejected);
  EXPECT_EQ(r->resources, S::Resources(req).size());
  EXPECT_EQ(r->scopes, CountScopes(req));
  EXPECT_EQ(r->error_message, ExpectedErrorMessage<Req>(inv));
  const Req want = WithoutItems(req, inv);
  if (rejected > 0) {
    ASSERT_FALSE(r->filtered.empty());
  }
  if (inv.empty()) {
    EXPECT_TRUE(r->filtered.empty());
  }
  if (!r->filtered.empty()) {
    EXPECT_TRUE(ParsesTo(r->filtered, want));
    // The filtered request is itself accepted without rejections.
    absl::StatusOr<ReadResult> again = ReadExportRequest(S::kSignal, r->filtered);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->items, r->items - r->rejected);
    EXPECT_EQ(again->rejected, 0);
    EXPECT_EQ(again->error_message, "");
    EXPECT_EQ(again->resources, r->resources);
    EXPECT_EQ(again->scopes, r->scopes);
  }
  if (!check_visitor) return;

  // Resources and scopes, in order, for the entries that have them.
  std::vector<const Message*> want_resources, want_scopes;
  for (const auto& res : S::Resources(req)) {
    if (res.has_resource()) want_resources.push_back(&res.resource());
    for (const auto& sc : S::ScopesOf(res)) {
      if (sc.has_scope()) want_scopes.push_back(&sc.scope());
    }
  }
  ASSERT_EQ(rec.resources.size(), want_resources.size());
  for (size_t i = 0; i < want_resources.size(); ++i) {
    EXPECT_TRUE(ParsesTo(rec.resources[i], static_cast<const tw_test::otr::Resource&>(*want_resources[i])));
  }
  ASSERT_EQ(rec.scopes.size(), want_scopes.size());
  for (size_t i = 0; i < want_scopes.size(); ++i) {
    EXPECT_TRUE(ParsesTo(rec.scopes[i],
                         static_cast<const otc::InstrumentationScope&>(*want_scopes[i])));
  }
  // The valid items, in order; views point into the caller's buffer.
  const auto& seen = Seen(rec, &req);
  size_t k = 0;
  for (const auto& res : S::Resources(want))
    for (const auto& sc : S::ScopesOf(res))
      for (const auto& item : S::ItemsOf(sc)) {
        ASSERT_LT(k, seen.size());
        SCOPED_TRACE(testing::Message() << "item " << k);
        ExpectView(seen[k], item);
        EXPECT_GE(seen[k].raw.data(), buf.view().data());
        EXPECT_LE(seen[k].raw.data() + seen[k].raw.size(), buf.view().data() + buf.view().size());
        ++k;
      }
  EXPECT_EQ(k, seen.size());
}


// ---- Injecting invalid items into valid requests ---------------------------

// Makes an otherwise valid span invalid in one of several ways.
void BreakSpan(ott::Span* s, int how) {
  switch (how % 8) {
    case 0:
      s->set_trace_id(tw_test::SeqBytes(15, 1));
      break;
    case 1:
      s->set_trace_id(std::string(16, '\0'));
      break;
    case 2:
      s->set_span_id(tw_test::SeqBytes(7, 1));
      break;
    case 3:
      s->set_span_id(std::string(8, '\0'));
      break;
    case 4:
      s->set_parent_span_id(tw_test::SeqBytes(5, 1));
      break;
    case 5:
      s->set_start_time_unix_nano(1000);
      s->set_end_time_unix_nano(999);
      break;
    case 6:
      s->clear_trace_id();
      break;
    case 7:
      s->set_span_id(tw_test::SeqBytes(9, 1));
      break;
  }
}

void BreakMetric(otm::Metric* m, int how) {
  switch (how % 3) {
    case 0:
      m->clear_name();
      break;
    case 1:
      m->clear_data();
      break;
    case 2:
      if (m->has_histogram() && m->histogram().data_points_size() > 0) {
        auto* pts = m->mutable_histogram()->mutable_data_points();
        otm::HistogramDataPoint* p = pts->Mutable(static_cast<int>(how / 3) % pts->size());
        p->clear_bucket_counts();
        for (int i = 0; i < p->explicit_bounds_size() + 2; ++i) p->add_bucket_counts(1);
      } else {
        m->clear_name();
      }
      break;
  }
}

void BreakLog(otl::LogRecord* l, int how) {
  switch (how % 5) {
    case 0:
      l->set_trace_id("abc");
      break;
    case 1:
      l->set_trace_id(std::string(16, '\0'));
      break;
    case 2:
      l->set_span_id(std::string(8, '\0'));
      break;
    case 3:
      l->set_span_id(tw_test::SeqBytes(7, 9));
      break;
    case 4:
      l->set_trace_id(tw_test::SeqBytes(17, 9));
      break;
  }
}

void Break(ott::Span* s, int how) { BreakSpan(s, how); }
void Break(otm::Metric* m, int how) { BreakMetric(m, how); }
void Break(otl::LogRecord* l, int how) { BreakLog(l, how); }

// Breaks about `fraction` of the items; returns how many it broke.
template <typename Req>
int BreakSome(Req* req, std::mt19937_64& rng, double fraction) {
  using S = Shape<Req>;
  int broken = 0;
  for (auto& r : S::Resources(*req))
    for (auto& s : S::Scopes(r))
      for (auto& item : S::Items(s)) {
        if (std::uniform_real_distribution<double>(0, 1)(rng) < fraction) {
          Break(&item, static_cast<int>(rng() % 1000));
          ++broken;
        }
      }
  return broken;
}


template <typename Req>
Req RandomRequest(tw_test::RandomOtlp& g);
template <>
TraceRequest RandomRequest(tw_test::RandomOtlp& g) { return g.Traces(); }
template <>
MetricsRequest RandomRequest(tw_test::RandomOtlp& g) { return g.Metrics(); }
template <>
LogsRequest RandomRequest(tw_test::RandomOtlp& g) { return g.Logs(); }

template <typename Req>
Req EveryFieldRequest();
template <>
TraceRequest EveryFieldRequest() { return tw_test::EveryFieldTraceRequest(); }
template <>
MetricsRequest EveryFieldRequest() { return tw_test::EveryFieldMetricsRequest(); }
template <>
LogsRequest EveryFieldRequest() { return tw_test::EveryFieldLogsRequest(); }

template <typename Req>
class OtlpReaderTyped : public ::testing::Test {};
using RequestTypes = ::testing::Types<TraceRequest, MetricsRequest, LogsRequest>;
class RequestNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::string(SignalName(Shape<T>::kSignal));
  }
};
TYPED_TEST_SUITE(OtlpReaderTyped, RequestTypes, RequestNames);

// ---- Valid requests ----------------------------------------------------------

TYPED_TEST(OtlpReaderTyped, EmptyRequest) {
  Recorder rec;
  absl::StatusOr<ReadResult> r = ReadExportRequest(Shape<TypeParam>::kSignal, "", &rec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->items, 0);
  EXPECT_EQ(r->rejected, 0);
  EXPECT_EQ(r->resources, 0);
  EXPECT_EQ(r->scopes, 0);
  EXPECT_EQ(r->error_message, "");
  EXPECT_EQ(r->filtered, "");
  EXPECT_TRUE(rec.resources.empty());
}

TYPED_TEST(OtlpReaderTyped, EveryFieldSet) {
  const TypeParam req = EveryFieldRequest<TypeParam>();
  ASSERT_TRUE(FindInvalid(req).empty()) << "the every-field request should be valid";
  ASSERT_GT(CountItems(req), 10);
  const std::string bytes = req.SerializeAsString();
  CheckRead(bytes, req, /*check_visitor=*/true);
  // Without a visitor the result is the same.
  absl::StatusOr<ReadResult> r = ReadExportRequest(Shape<TypeParam>::kSignal, bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items, CountItems(req));
  EXPECT_EQ(r->rejected, 0);
  EXPECT_EQ(r->resources, Shape<TypeParam>::Resources(req).size());
}

TYPED_TEST(OtlpReaderTyped, RandomValidRequests) {
  int64_t total_items = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    tw_test::RandomOtlp g(seed);
    const TypeParam req = RandomRequest<TypeParam>(g);
    ASSERT_TRUE(FindInvalid(req).empty()) << "the generator makes valid items only";
    total_items += CountItems(req);
    CheckRead(req.SerializeAsString(), req, /*check_visitor=*/true);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(total_items, 300) << "the random requests should hold a fair number of items";
}

TYPED_TEST(OtlpReaderTyped, RandomRequestsWithInvalidItems) {
  int broken_total = 0;
  for (uint64_t seed = 1001; seed <= 1200; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    tw_test::RandomOtlp g(seed);
    TypeParam req = RandomRequest<TypeParam>(g);
    const int broken = BreakSome(&req, g.rng(), 0.3);
    broken_total += broken;
    ASSERT_EQ(FindInvalid(req).size(), static_cast<size_t>(broken));
    CheckRead(req.SerializeAsString(), req, /*check_visitor=*/true);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(broken_total, 100);
}

TYPED_TEST(OtlpReaderTyped, EveryFieldWithInvalidItems) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 20; ++round) {
    TypeParam req = EveryFieldRequest<TypeParam>();
    BreakSome(&req, rng, 0.4);
    CheckRead(req.SerializeAsString(), req, /*check_visitor=*/true);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TYPED_TEST(OtlpReaderTyped, AllItemsRejectedKeepsContainers) {
  TypeParam req = EveryFieldRequest<TypeParam>();
  std::mt19937_64 rng(5);
  BreakSome(&req, rng, 1.0);
  const std::vector<Invalid> inv = FindInvalid(req);
  ASSERT_EQ(static_cast<int64_t>(inv.size()), [&] {
    int64_t n = 0;
    for (const auto& r : Shape<TypeParam>::Resources(req))
      for (const auto& s : Shape<TypeParam>::ScopesOf(r)) n += Shape<TypeParam>::ItemsOf(s).size();
    return n;
  }());
  CheckRead(req.SerializeAsString(), req, /*check_visitor=*/true);
  absl::StatusOr<ReadResult> r =
      ReadExportRequest(Shape<TypeParam>::kSignal, req.SerializeAsString());
  ASSERT_TRUE(r.ok());
  TypeParam filtered;
  ASSERT_TRUE(filtered.ParseFromString(r->filtered));
  EXPECT_EQ(Shape<TypeParam>::Resources(filtered).size(), Shape<TypeParam>::Resources(req).size());
  EXPECT_EQ(CountScopes(filtered), CountScopes(req));
  EXPECT_EQ(CountItems(filtered), 0);
}

TYPED_TEST(OtlpReaderTyped, UnknownFieldsAreToleratedAndKept) {
  // Unknown fields of every wire type at every level; libprotobuf keeps them,
  // and so must the filtered request.
  TypeParam req = EveryFieldRequest<TypeParam>();
  auto add_unknown = [](Message* m) {
    google::protobuf::UnknownFieldSet* u = m->GetReflection()->MutableUnknownFields(m);
    u->AddVarint(1000, 5);
    u->AddFixed32(1001, 7);
    u->AddFixed64(1002, 9);
    u->AddLengthDelimited(1003, "\xff\xfe not utf-8");
    google::protobuf::UnknownFieldSet* g = u->AddGroup(1004);
    g->AddVarint(1, 1);
    g->AddGroup(2)->AddLengthDelimited(3, "x");
  };
  add_unknown(&req);
  using S = Shape<TypeParam>;
  for (auto& r : S::Resources(req)) {
    add_unknown(&r);
    if (r.has_resource()) add_unknown(r.mutable_resource());
    for (auto& s : S::Scopes(r)) {
      add_unknown(&s);
      if (s.has_scope()) add_unknown(s.mutable_scope());
      for (auto& item : S::Items(s)) add_unknown(&item);
    }
  }
  CheckRead(req.SerializeAsString(), req, /*check_visitor=*/true);
  std::mt19937_64 rng(17);
  BreakSome(&req, rng, 0.5);
  CheckRead(req.SerializeAsString(), req, /*check_visitor=*/true);
}

TEST(OtlpReader, KnownFieldsWithAnotherWireTypeAreIgnored) {
  // As libprotobuf does, a known field number with the wrong wire type is an
  // unknown field: it neither sets the field nor makes the request malformed.
  TraceRequest req;
  ott::Span* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->set_trace_id(tw_test::SeqBytes(16, 1));
  s->set_span_id(tw_test::SeqBytes(8, 1));
  google::protobuf::UnknownFieldSet* u = s->GetReflection()->MutableUnknownFields(s);
  u->AddVarint(1, 77);        // trace_id as a varint
  u->AddFixed32(7, 5);        // start_time as fixed32
  u->AddLengthDelimited(8, "12345678");  // end_time as bytes
  u->AddVarint(5, 3);         // name as a varint
  u->AddGroup(2);             // span_id as a group
  ott::Span* t = req.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  t->set_span_id(tw_test::SeqBytes(8, 2));
  t->GetReflection()->MutableUnknownFields(t)->AddFixed64(1, 1);  // trace_id only as fixed64
  const std::string bytes = req.SerializeAsString();
  TraceRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).spans(0).trace_id(), s->trace_id());
  CheckRead(bytes, parsed, /*check_visitor=*/true);
  absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kTraces, bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rejected, 1);
  EXPECT_EQ(r->error_message,
            "resource_spans[0].scope_spans[0].spans[1]: trace_id is 0 bytes, want 16");
}

// ---- Item problems, with literal expectations --------------------------------

// Two resources; the first has two scopes; scope 1 holds four valid spans.
TraceRequest FourSpans() {
  TraceRequest req;
  ott::ResourceSpans* r0 = req.add_resource_spans();
  r0->mutable_resource()->add_attributes()->set_key("service.name");
  ott::ScopeSpans* s0 = r0->add_scope_spans();
  ott::Span* first = s0->add_spans();
  first->set_trace_id(tw_test::SeqBytes(16, 200));
  first->set_span_id(tw_test::SeqBytes(8, 200));
  ott::ScopeSpans* s1 = r0->add_scope_spans();
  for (int i = 0; i < 4; ++i) {
    ott::Span* s = s1->add_spans();
    s->set_trace_id(tw_test::SeqBytes(16, static_cast<uint8_t>(i + 1)));
    s->set_span_id(tw_test::SeqBytes(8, static_cast<uint8_t>(i + 1)));
    s->set_name("span" + std::to_string(i));
    s->set_start_time_unix_nano(100);
    s->set_end_time_unix_nano(200);
  }
  req.add_resource_spans()->add_scope_spans()->add_spans()->CopyFrom(s1->spans(0));
  return req;
}

TEST(OtlpReader, EachSpanProblemIsReportedWithItsPath) {
  struct Case {
    std::function<void(ott::Span*)> mutate;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {[](ott::Span* s) { s->set_trace_id(tw_test::SeqBytes(15, 1)); },
       "trace_id is 15 bytes, want 16"},
      {[](ott::Span* s) { s->set_trace_id(tw_test::SeqBytes(17, 1)); },
       "trace_id is 17 bytes, want 16"},
      {[](ott::Span* s) { s->clear_trace_id(); }, "trace_id is 0 bytes, want 16"},
      {[](ott::Span* s) { s->set_trace_id(std::string(16, '\0')); }, "trace_id is all zero"},
      {[](ott::Span* s) { s->set_span_id(tw_test::SeqBytes(7, 1)); },
       "span_id is 7 bytes, want 8"},
      {[](ott::Span* s) { s->clear_span_id(); }, "span_id is 0 bytes, want 8"},
      {[](ott::Span* s) { s->set_span_id(std::string(8, '\0')); }, "span_id is all zero"},
      {[](ott::Span* s) { s->set_parent_span_id(tw_test::SeqBytes(5, 1)); },
       "parent_span_id is 5 bytes, want 8 or 0"},
      {[](ott::Span* s) { s->set_parent_span_id(tw_test::SeqBytes(16, 1)); },
       "parent_span_id is 16 bytes, want 8 or 0"},
      {[](ott::Span* s) { s->set_end_time_unix_nano(99); },
       "end_time_unix_nano 99 is before start_time_unix_nano 100"},
      {[](ott::Span* s) { s->clear_end_time_unix_nano(); },
       "end_time_unix_nano 0 is before start_time_unix_nano 100"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.problem);
    TraceRequest req = FourSpans();
    c.mutate(req.mutable_resource_spans(0)->mutable_scope_spans(1)->mutable_spans(3));
    const std::string bytes = req.SerializeAsString();
    Recorder rec;
    absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kTraces, bytes, &rec);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->items, 6);
    EXPECT_EQ(r->rejected, 1);
    EXPECT_EQ(r->resources, 2);
    EXPECT_EQ(r->scopes, 3);
    EXPECT_EQ(r->error_message, "resource_spans[0].scope_spans[1].spans[3]: " + c.problem);
    TraceRequest want = req;
    want.mutable_resource_spans(0)->mutable_scope_spans(1)->mutable_spans()->DeleteSubrange(3, 1);
    EXPECT_TRUE(ParsesTo(r->filtered, want));
    ASSERT_EQ(rec.spans.size(), 5u);
    EXPECT_EQ(rec.spans[3].name, "span2");
    EXPECT_EQ(rec.spans[4].span_id, tw_test::SeqBytes(8, 1));
  }
}

TEST(OtlpReader, ValidSpanEdgeCases) {
  TraceRequest req = FourSpans();
  ott::ScopeSpans* s1 = req.mutable_resource_spans(0)->mutable_scope_spans(1);
  s1->mutable_spans(0)->set_parent_span_id(std::string(8, '\0'));  // zero parent: allowed
  s1->mutable_spans(1)->set_end_time_unix_nano(100);               // end == start
  s1->mutable_spans(2)->set_trace_id(std::string(15, '\0') + "\x01");
  s1->mutable_spans(3)->set_span_id(std::string("\x80\0\0\0\0\0\0\0", 8));
  absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kTraces, req.SerializeAsString());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rejected, 0);
  EXPECT_EQ(r->error_message, "");
  EXPECT_EQ(r->filtered, "");
}

TEST(OtlpReader, ProblemsBeyondThreeAreCounted) {
  TraceRequest req = FourSpans();
  auto* spans = req.mutable_resource_spans(0)->mutable_scope_spans(1)->mutable_spans();
  for (int i = 0; i < 4; ++i) spans->Mutable(i)->set_span_id("x");
  req.mutable_resource_spans(1)->mutable_scope_spans(0)->mutable_spans(0)->clear_trace_id();
  absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kTraces, req.SerializeAsString());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items, 6);
  EXPECT_EQ(r->rejected, 5);
  EXPECT_EQ(r->error_message,
            "resource_spans[0].scope_spans[1].spans[0]: span_id is 1 bytes, want 8; "
            "resource_spans[0].scope_spans[1].spans[1]: span_id is 1 bytes, want 8; "
            "resource_spans[0].scope_spans[1].spans[2]: span_id is 1 bytes, want 8; "
            "and 2 more invalid spans");
  TraceRequest want = req;
  want.mutable_resource_spans(0)->mutable_scope_spans(1)->clear_spans();
  want.mutable_resource_spans(1)->mutable_scope_spans(0)->clear_spans();
  EXPECT_TRUE(ParsesTo(r->filtered, want));
}

MetricsRequest ThreeMetrics() {
  MetricsRequest req;
  otm::ScopeMetrics* sm = req.add_resource_metrics()->add_scope_metrics();
  otm::Metric* g = sm->add_metrics();
  g->set_name("g");
  for (int i = 0; i < 2; ++i) g->mutable_gauge()->add_data_points()->set_as_int(i);
  otm::Metric* s = sm->add_metrics();
  s->set_name("s");
  for (int i = 0; i < 3; ++i) s->mutable_sum()->add_data_points()->set_as_double(i);
  otm::Metric* h = sm->add_metrics();
  h->set_name("h");
  for (int i = 0; i < 2; ++i) {
    otm::HistogramDataPoint* p = h->mutable_histogram()->add_data_points();
    p->add_explicit_bounds(1.0);
    p->add_bucket_counts(1);
    p->add_bucket_counts(2);
  }
  return req;
}

TEST(OtlpReader, EachMetricProblemIsReportedWithItsPath) {
  struct Case {
    int metric;
    std::function<void(otm::Metric*)> mutate;
    std::string problem;
    int64_t rejected;
  };
  const std::vector<Case> cases = {
      {1, [](otm::Metric* m) { m->clear_name(); }, "metric has no name", 3},
      {0, [](otm::Metric* m) { m->clear_data(); }, "metric \"g\" has no data field", 0},
      {0,
       [](otm::Metric* m) {
         m->clear_name();
         m->clear_data();
       },
       "metric has no name", 0},
      {2,
       [](otm::Metric* m) {
         m->mutable_histogram()->mutable_data_points(1)->add_bucket_counts(3);
       },
       "metric \"h\": histogram data_points[1] has 3 bucket_counts for 1 explicit_bounds", 2},
      {2,
       [](otm::Metric* m) {
         m->mutable_histogram()->mutable_data_points(0)->clear_explicit_bounds();
       },
       "metric \"h\": histogram data_points[0] has 2 bucket_counts for 0 explicit_bounds", 2},
      {2,
       [](otm::Metric* m) {
         auto* p = m->mutable_histogram()->mutable_data_points(1);
         p->clear_bucket_counts();
         p->add_bucket_counts(5);
       },
       "metric \"h\": histogram data_points[1] has 1 bucket_counts for 1 explicit_bounds", 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.problem);
    MetricsRequest req = ThreeMetrics();
    c.mutate(req.mutable_resource_metrics(0)->mutable_scope_metrics(0)->mutable_metrics(c.metric));
    const int64_t items = tw_test::CountDataPoints(req);
    Recorder rec;
    absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kMetrics, req.SerializeAsString(), &rec);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->items, items);
    EXPECT_EQ(r->rejected, c.rejected);
    EXPECT_EQ(r->error_message, "resource_metrics[0].scope_metrics[0].metrics[" +
                                    std::to_string(c.metric) + "]: " + c.problem);
    ASSERT_EQ(rec.metrics.size(), 2u) << "the invalid metric is not visited";
    MetricsRequest want = req;
    want.mutable_resource_metrics(0)->mutable_scope_metrics(0)->mutable_metrics()->DeleteSubrange(
        c.metric, 1);
    if (c.rejected > 0) {
      EXPECT_TRUE(ParsesTo(r->filtered, want));
    } else if (!r->filtered.empty()) {
      // A metric without data points rejects no points; if a filtered request
      // is produced anyway, it must leave out exactly that metric.
      EXPECT_TRUE(ParsesTo(r->filtered, want));
    }
  }
}

TEST(OtlpReader, MetricWithTwoDataFieldsIsInvalid) {
  // libprotobuf cannot build this (a oneof); write it by hand: a sum metric
  // with a gauge field appended.
  otm::Metric m;
  m.set_name("two");
  m.mutable_sum()->add_data_points()->set_as_int(1);
  otm::Metric g;
  g.mutable_gauge()->add_data_points();
  g.mutable_gauge()->add_data_points();
  const std::string metric_bytes = m.SerializeAsString() + g.SerializeAsString();
  otm::ScopeMetrics sm;
  sm.add_metrics()->set_name("ok");
  sm.mutable_metrics(0)->mutable_gauge()->add_data_points();
  std::string scope_bytes = sm.SerializeAsString();
  scope_bytes += std::string("\x12") + static_cast<char>(metric_bytes.size()) + metric_bytes;
  std::string rm_bytes = std::string("\x12") + static_cast<char>(scope_bytes.size()) + scope_bytes;
  const std::string req_bytes =
      std::string("\x0a") + static_cast<char>(rm_bytes.size()) + rm_bytes;
  ASSERT_LT(req_bytes.size(), 128u);
  MetricsRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(req_bytes));
  ASSERT_TRUE(parsed.resource_metrics(0).scope_metrics(0).metrics(1).has_gauge())
      << "libprotobuf keeps the last member of the oneof";

  Recorder rec;
  absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kMetrics, req_bytes, &rec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->items, 3) << "1 + the last data field's 2 points, as libprotobuf sees it";
  EXPECT_EQ(r->rejected, 2);
  EXPECT_EQ(r->error_message,
            "resource_metrics[0].scope_metrics[0].metrics[1]: metric \"two\" has more than one "
            "data field");
  ASSERT_EQ(rec.metrics.size(), 1u);
  EXPECT_EQ(rec.metrics[0].name, "ok");
  EXPECT_EQ(rec.metrics[0].data_field, 5u);
  EXPECT_EQ(rec.metrics[0].data_points, 1);
  MetricsRequest want = parsed;
  want.mutable_resource_metrics(0)->mutable_scope_metrics(0)->mutable_metrics()->DeleteSubrange(1, 1);
  EXPECT_TRUE(ParsesTo(r->filtered, want));
}

// A Metric message written by hand: name, then the given data fields.
std::string MetricWire(const std::string& name, const std::vector<otm::Metric>& data) {
  otm::Metric m;
  m.set_name(name);
  std::string out = m.SerializeAsString();
  for (const otm::Metric& d : data) out += d.SerializeAsString();
  return out;
}

MetricsRequest RequestWithMetricWire(const std::string& metric_wire, std::string* bytes) {
  otm::ScopeMetrics sm;
  sm.GetReflection()->MutableUnknownFields(&sm)->AddLengthDelimited(2, metric_wire);
  otm::ResourceMetrics rm;
  rm.add_scope_metrics()->CopyFrom(sm);
  MetricsRequest req;
  req.add_resource_metrics()->CopyFrom(rm);
  // The metric went in as an unknown field 2 of ScopeMetrics: on the wire
  // that is a metrics entry; parse it back to see it as libprotobuf does.
  *bytes = req.SerializeAsString();
  MetricsRequest parsed;
  EXPECT_TRUE(parsed.ParseFromString(*bytes));
  EXPECT_EQ(parsed.resource_metrics(0).scope_metrics(0).metrics_size(), 1);
  return parsed;
}

TEST(OtlpReader, RepeatedDataFieldMergesAsInLibprotobuf) {
  otm::Metric g2, g3, s1;
  for (int i = 0; i < 2; ++i) g2.mutable_gauge()->add_data_points()->set_as_int(i);
  for (int i = 0; i < 3; ++i) g3.mutable_gauge()->add_data_points()->set_as_int(10 + i);
  s1.mutable_sum()->add_data_points()->set_as_int(1);
  struct Case {
    std::vector<otm::Metric> data;
    int64_t items;
    bool valid;
  };
  const Case cases[] = {
      {{g2, g3}, 5, true},       // the same field twice: merged
      {{g2, g3, g2}, 7, true},
      {{g2, s1}, 1, false},      // two members: the last one counts
      {{s1, g2, g3}, 5, false},  // the last run of the same member
      {{g3, s1, g2}, 2, false},
  };
  for (const Case& c : cases) {
    std::string bytes;
    const MetricsRequest parsed = RequestWithMetricWire(MetricWire("m", c.data), &bytes);
    ASSERT_EQ(tw_test::CountDataPoints(parsed), c.items) << "libprotobuf's view";
    Recorder rec;
    absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kMetrics, bytes, &rec);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->items, c.items);
    EXPECT_EQ(r->rejected, c.valid ? 0 : c.items);
    if (c.valid) {
      CheckRead(bytes, parsed, /*check_visitor=*/true);
      ASSERT_EQ(rec.metrics.size(), 1u);
      EXPECT_EQ(rec.metrics[0].data_points, c.items);
    } else {
      EXPECT_EQ(r->error_message,
                "resource_metrics[0].scope_metrics[0].metrics[0]: metric \"m\" has more than one "
                "data field");
    }
  }
  // A histogram split in two: the points are numbered across both.
  otm::Metric h1, h2;
  otm::HistogramDataPoint* p = h1.mutable_histogram()->add_data_points();
  p->add_bucket_counts(1);
  h2.mutable_histogram()->add_data_points()->add_bucket_counts(1);
  p = h2.mutable_histogram()->add_data_points();
  p->add_bucket_counts(1);
  p->add_bucket_counts(1);
  std::string bytes;
  const MetricsRequest parsed = RequestWithMetricWire(MetricWire("h", {h1, h2}), &bytes);
  absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kMetrics, bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items, 3);
  EXPECT_EQ(r->rejected, 3);
  EXPECT_EQ(r->error_message,
            "resource_metrics[0].scope_metrics[0].metrics[0]: metric \"h\": histogram "
            "data_points[2] has 2 bucket_counts for 0 explicit_bounds");
  CheckRead(bytes, parsed, /*check_visitor=*/true);
}

TEST(OtlpReader, EachLogProblemIsReportedWithItsPath) {
  struct Case {
    std::function<void(otl::LogRecord*)> mutate;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {[](otl::LogRecord* l) { l->set_trace_id("abc"); }, "trace_id is 3 bytes, want 16"},
      {[](otl::LogRecord* l) { l->set_trace_id(std::string(16, '\0')); }, "trace_id is all zero"},
      {[](otl::LogRecord* l) { l->set_span_id(std::string(8, '\0')); }, "span_id is all zero"},
      {[](otl::LogRecord* l) { l->set_span_id("abcdefg"); }, "span_id is 7 bytes, want 8"},
      {[](otl::LogRecord* l) {
         l->set_trace_id("abc");
         l->set_span_id("x");
       },
       "trace_id is 3 bytes, want 16"},
      {[](otl::LogRecord* l) {
         l->clear_trace_id();
         l->set_span_id(std::string(8, '\0'));
       },
       "span_id is all zero"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.problem);
    LogsRequest req;
    req.add_resource_logs();
    otl::ScopeLogs* sl = req.add_resource_logs()->add_scope_logs();
    sl = req.mutable_resource_logs(1)->add_scope_logs();
    for (int i = 0; i < 3; ++i) {
      otl::LogRecord* l = sl->add_log_records();
      l->set_time_unix_nano(10 + i);
      l->set_severity_number(otl::SEVERITY_NUMBER_WARN);
      l->set_trace_id(tw_test::SeqBytes(16, 1));
      l->set_span_id(tw_test::SeqBytes(8, 1));
    }
    sl->add_log_records();  // no ids at all: valid
    c.mutate(sl->mutable_log_records(1));
    Recorder rec;
    absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kLogs, req.SerializeAsString(), &rec);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->items, 4);
    EXPECT_EQ(r->rejected, 1);
    EXPECT_EQ(r->resources, 2);
    EXPECT_EQ(r->scopes, 2);
    EXPECT_EQ(r->error_message, "resource_logs[1].scope_logs[1].log_records[1]: " + c.problem);
    ASSERT_EQ(rec.logs.size(), 3u);
    EXPECT_EQ(rec.logs[0].time_unix_nano, 10u);
    EXPECT_EQ(rec.logs[1].time_unix_nano, 12u);
    EXPECT_EQ(rec.logs[1].severity_number, 13u);
    EXPECT_EQ(rec.logs[2].trace_id, "");
    LogsRequest want = req;
    want.mutable_resource_logs(1)->mutable_scope_logs(1)->mutable_log_records()->DeleteSubrange(1, 1);
    EXPECT_TRUE(ParsesTo(r->filtered, want));
  }
}

// ---- Malformed requests --------------------------------------------------------

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos);
  EXPECT_EQ(s.find(from, pos + 1), std::string::npos) << "marker must be unique";
  EXPECT_EQ(from.size(), to.size());
  return s.replace(pos, from.size(), to);
}

const char kMarker[] = "@@MARK@@";
const char kTraceRequestName[] = "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest";

void ExpectMalformedAt(const TraceRequest& req, const std::string& path) {
  google::protobuf::LogSilencer quiet;
  const std::string bytes = Replace(req.SerializeAsString(), kMarker, "@@M\xff" "RK@@");
  TraceRequest parsed;
  EXPECT_FALSE(parsed.ParseFromString(bytes)) << "libprotobuf should reject it too";
  ExactBuffer buf(bytes);
  absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kTraces, buf.view());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string want = path.empty()
                               ? std::string("request is not a valid ") + kTraceRequestName
                               : std::string("request is not a valid ") + kTraceRequestName +
                                     ": malformed at " + path;
  EXPECT_EQ(r.status().message(), want);
}

TEST(OtlpReader, MalformedSpanNamesItsPath) {
  TraceRequest req = FourSpans();
  req.mutable_resource_spans(0)->mutable_scope_spans(1)->mutable_spans(2)->set_name(kMarker);
  ExpectMalformedAt(req, "resource_spans[0].scope_spans[1].spans[2]");

  req = FourSpans();
  req.mutable_resource_spans(1)->mutable_scope_spans(0)->mutable_spans(0)
      ->add_events()->set_name(kMarker);
  ExpectMalformedAt(req, "resource_spans[1].scope_spans[0].spans[0]");
}

TEST(OtlpReader, MalformedScopeNamesItsPath) {
  TraceRequest req = FourSpans();
  req.mutable_resource_spans(0)->mutable_scope_spans(1)->mutable_scope()->set_name(kMarker);
  ExpectMalformedAt(req, "resource_spans[0].scope_spans[1]");
  req = FourSpans();
  req.mutable_resource_spans(0)->mutable_scope_spans(1)->set_schema_url(kMarker);
  ExpectMalformedAt(req, "resource_spans[0].scope_spans[1]");
}

TEST(OtlpReader, MalformedResourceNamesItsPath) {
  TraceRequest req = FourSpans();
  req.mutable_resource_spans(1)->mutable_resource()->add_attributes()->set_key(kMarker);
  ExpectMalformedAt(req, "resource_spans[1]");
  // A resource-level field after the scopes: the path is the resource's, not
  // that of the last scope walked.
  req = FourSpans();
  req.mutable_resource_spans(0)->set_schema_url(kMarker);
  ExpectMalformedAt(req, "resource_spans[0]");
}

TEST(OtlpReader, MalformedTopLevelHasNoPath) {
  const std::string good = FourSpans().SerializeAsString();
  for (const std::string& tail : {std::string("\x0a\x05" "ab", 4), std::string("\x07"),
                                  std::string("\x0a\x02\x0a\xff")}) {
    absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kTraces, good + tail);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(r.status().message() == std::string("request is not a valid ") + kTraceRequestName ||
                r.status().message().find("malformed at resource_spans[2]") !=
                    std::string::npos)
        << r.status();
  }
  absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kTraces, good + "\x0a\x05" "ab");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), std::string("request is not a valid ") + kTraceRequestName);
}

TYPED_TEST(OtlpReaderTyped, GarbageIsInvalidArgument) {
  const std::vector<std::string> garbage = {
      "\xff\xff\xff",
      "\x0a",
      "\x0a\x05" "ab",
      "\x0a\xff\xff\xff\xff\x0f",
      std::string("\x00", 1),
      "\x0c",                           // end group without start
      "\x0f",                           // wire type 7
      "\x0a\x02\x12\x05",               // nested length past end
      "\x0a\x03\x12\x01\x12",           // item length past end
      "\x0a\x04\x12\x02\x12\x00\x0b",   // trailing start group
      "not a protobuf message at all",
  };
  for (const std::string& g : garbage) {
    SCOPED_TRACE(tw_test::Hex(g));
    TypeParam parsed;
    ASSERT_FALSE(parsed.ParseFromString(g)) << "test case assumption";
    ExactBuffer buf(g);
    absl::StatusOr<ReadResult> r = ReadExportRequest(Shape<TypeParam>::kSignal, buf.view());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(OtlpReader, AnotherSignalsRequestDoesNotCrash) {
  // A logs request read as traces (and so on) is valid protobuf; it may be
  // accepted or not, but must not crash or read out of bounds.
  const std::string inputs[] = {tw_test::EveryFieldTraceRequest().SerializeAsString(),
                                tw_test::EveryFieldMetricsRequest().SerializeAsString(),
                                tw_test::EveryFieldLogsRequest().SerializeAsString()};
  for (const std::string& in : inputs) {
    for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
      ExactBuffer buf(in);
      Recorder rec;
      absl::StatusOr<ReadResult> r = ReadExportRequest(s, buf.view(), &rec);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      }
    }
  }
}

// Every field of every message type reachable from `d`, as "Message.field".
void ReachableFields(const google::protobuf::Descriptor* d, std::set<std::string>* fields,
                     std::set<const google::protobuf::Descriptor*>* seen) {
  if (!seen->insert(d).second) return;
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* fd = d->field(i);
    fields->insert(fd->full_name());
    if (fd->message_type() != nullptr) ReachableFields(fd->message_type(), fields, seen);
  }
}

// The fields set anywhere in `m`.
void SetFields(const Message& m, std::set<std::string>* fields) {
  const google::protobuf::Reflection* refl = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> list;
  refl->ListFields(m, &list);
  for (const auto* fd : list) {
    fields->insert(fd->full_name());
    if (fd->message_type() == nullptr) continue;
    if (fd->is_repeated()) {
      for (int i = 0; i < refl->FieldSize(m, fd); ++i) {
        SetFields(refl->GetRepeatedMessage(m, fd, i), fields);
      }
    } else {
      SetFields(refl->GetMessage(m, fd), fields);
    }
  }
}

TYPED_TEST(OtlpReaderTyped, EveryFieldRequestSetsEveryField) {
  const TypeParam req = EveryFieldRequest<TypeParam>();
  std::set<std::string> all, set;
  std::set<const google::protobuf::Descriptor*> seen;
  ReachableFields(TypeParam::descriptor(), &all, &seen);
  SetFields(req, &set);
  EXPECT_EQ(set, all);
}

// Every string field, wherever it is, set to a marker that is then made
// invalid UTF-8: libprotobuf rejects the request, and so must we. Bytes fields
// with the same content are fine.
struct Slot {
  const google::protobuf::FieldDescriptor* field;
  int index;  // -1 for a singular field
  Message* message;
  std::string path;  // field names from the request down, without indexes
};

void CollectSlots(Message* m, google::protobuf::FieldDescriptor::Type type,
                  const std::string& path, std::vector<Slot>* out) {
  const google::protobuf::Reflection* refl = m->GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  refl->ListFields(*m, &fields);
  for (const auto* fd : fields) {
    const std::string p = path + "." + fd->name();
    if (fd->type() == type) {
      if (fd->is_repeated()) {
        for (int i = 0; i < refl->FieldSize(*m, fd); ++i) out->push_back({fd, i, m, p});
      } else {
        out->push_back({fd, -1, m, p});
      }
    } else if (fd->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
      if (fd->is_repeated()) {
        for (int i = 0; i < refl->FieldSize(*m, fd); ++i) {
          CollectSlots(refl->MutableRepeatedMessage(m, fd, i), type, p, out);
        }
      } else {
        CollectSlots(refl->MutableMessage(m, fd), type, p, out);
      }
    }
  }
}

void SetSlot(const Slot& s, const std::string& v) {
  const google::protobuf::Reflection* refl = s.message->GetReflection();
  if (s.index < 0) {
    refl->SetString(s.message, s.field, v);
  } else {
    refl->SetRepeatedString(s.message, s.field, s.index, v);
  }
}

// Indexes of the slots to try: the first two for each distinct path.
std::vector<size_t> SlotsToTry(const std::vector<Slot>& slots) {
  std::map<std::string, int> per_path;
  std::vector<size_t> out;
  for (size_t k = 0; k < slots.size(); ++k) {
    if (per_path[slots[k].path]++ < 2) out.push_back(k);
  }
  return out;
}

template <typename Req>
void CheckEveryStringField() {
  google::protobuf::LogSilencer quiet;
  const Req base = EveryFieldRequest<Req>();
  std::vector<Slot> probe;
  Req copy = base;
  CollectSlots(&copy, google::protobuf::FieldDescriptor::TYPE_STRING, "", &probe);
  const std::vector<size_t> to_try = SlotsToTry(probe);
  const std::string bad[] = {
      "@@M\xff" "RK@@",          // not UTF-8 at all
      "@@\xc0\xaf" "RK@@",       // overlong '/'
      "@@\xed\xa0\x80" "K@@",    // a surrogate
      "@@\xf4\x90\x80\x80@@",    // above U+10FFFF
      "@@MAR\xe2\x82@",          // truncated sequence
  };
  std::set<std::string> tried_fields;
  for (size_t k : to_try) {
    Req req = base;
    std::vector<Slot> slots;
    CollectSlots(&req, google::protobuf::FieldDescriptor::TYPE_STRING, "", &slots);
    ASSERT_EQ(slots.size(), probe.size());
    SetSlot(slots[k], kMarker);
    tried_fields.insert(slots[k].field->full_name());
    const std::string good = req.SerializeAsString();
    SCOPED_TRACE(slots[k].path);
    {
      ExactBuffer buf(Replace(good, kMarker, "@@M\xc3\xa9K@@"));
      absl::StatusOr<ReadResult> r = ReadExportRequest(Shape<Req>::kSignal, buf.view());
      EXPECT_TRUE(r.ok()) << r.status();
    }
    for (const std::string& b : bad) {
      const std::string bytes = Replace(good, kMarker, b);
      Req parsed;
      EXPECT_FALSE(parsed.ParseFromString(bytes));
      ExactBuffer buf(bytes);
      absl::StatusOr<ReadResult> r = ReadExportRequest(Shape<Req>::kSignal, buf.view());
      ASSERT_FALSE(r.ok()) << tw_test::Hex(b);
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  // Every string field of the schema was tried.
  std::set<std::string> all, strings;
  std::set<const google::protobuf::Descriptor*> seen;
  ReachableFields(Req::descriptor(), &all, &seen);
  for (const std::string& name : all) {
    const auto* fd = google::protobuf::DescriptorPool::generated_pool()->FindFieldByName(name);
    ASSERT_NE(fd, nullptr) << name;
    if (fd->type() == google::protobuf::FieldDescriptor::TYPE_STRING) strings.insert(name);
  }
  EXPECT_EQ(tried_fields, strings);

  // Bytes fields may hold anything.
  std::vector<Slot> bytes_probe;
  copy = base;
  CollectSlots(&copy, google::protobuf::FieldDescriptor::TYPE_BYTES, "", &bytes_probe);
  ASSERT_GT(bytes_probe.size(), 5u);
  for (size_t k : SlotsToTry(bytes_probe)) {
    Req req = base;
    std::vector<Slot> slots;
    CollectSlots(&req, google::protobuf::FieldDescriptor::TYPE_BYTES, "", &slots);
    SetSlot(slots[k], "\xff\xfe\xc0\xaf\xed\xa0\x80");
    const std::string bytes = req.SerializeAsString();
    Req parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes));
    absl::StatusOr<ReadResult> r = ReadExportRequest(Shape<Req>::kSignal, bytes);
    ASSERT_TRUE(r.ok()) << slots[k].path << ": " << r.status();
    CheckRead(bytes, parsed, /*check_visitor=*/false);
  }
}

TYPED_TEST(OtlpReaderTyped, InvalidUtf8InAnyStringFieldIsRejected) {
  CheckEveryStringField<TypeParam>();
}

// ---- Truncation and corruption -----------------------------------------------

template <typename Req>
void CheckTruncations(const Req& req) {
  using S = Shape<Req>;
  const std::string full = req.SerializeAsString();
  // Offsets that end a whole resource_* entry, and how many entries precede.
  std::vector<size_t> boundaries = {0};
  size_t pos = 0;
  for (const auto& r : S::Resources(req)) {
    const size_t n = r.ByteSizeLong();
    pos += 1 + google::protobuf::io::CodedOutputStream::VarintSize64(n) + n;
    boundaries.push_back(pos);
  }
  ASSERT_EQ(pos, full.size());
  int ok_count = 0;
  for (size_t n = 0; n <= full.size(); ++n) {
    SCOPED_TRACE(testing::Message() << "prefix of " << n << " bytes of " << full.size());
    const std::string prefix = full.substr(0, n);
    ExactBuffer buf(prefix);
    absl::StatusOr<ReadResult> r = ReadExportRequest(S::kSignal, buf.view());
    const auto it = std::find(boundaries.begin(), boundaries.end(), n);
    if (it != boundaries.end() || n % 16 == 0) {  // (libprotobuf is slow: a sample)
      // A cut inside a multi-byte character makes libprotobuf log "contains
      // invalid UTF-8" as it rejects the prefix: expected here, and asserted.
      google::protobuf::LogSilencer quiet;
      Req parsed;
      EXPECT_EQ(parsed.ParseFromString(prefix), it != boundaries.end()) << "test assumption";
    }
    if (it == boundaries.end()) {
      ASSERT_FALSE(r.ok()) << "a cut inside a field must be malformed";
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.status();
    ++ok_count;
    const int entries = static_cast<int>(it - boundaries.begin());
    Req want = req;
    S::Resources(want).DeleteSubrange(entries, S::Resources(want).size() - entries);
    EXPECT_EQ(r->resources, entries);
    EXPECT_EQ(r->items, CountItems(want));
    EXPECT_LE(r->items, CountItems(req));
    EXPECT_EQ(r->scopes, CountScopes(want));
  }
  EXPECT_EQ(ok_count, static_cast<int>(boundaries.size()));
}

TYPED_TEST(OtlpReaderTyped, TruncationAtEveryOffset) {
  // The every-field request, cut down to one full resource entry with one
  // scope (it still sets every field) to keep this quadratic test quick.
  TypeParam req = EveryFieldRequest<TypeParam>();
  auto& resources = Shape<TypeParam>::Resources(req);
  ASSERT_EQ(resources.size(), 4);
  resources.DeleteSubrange(1, 1);
  Shape<TypeParam>::Scopes(resources[0]).DeleteSubrange(1, 1);
  std::set<std::string> all, set;
  std::set<const google::protobuf::Descriptor*> seen;
  ReachableFields(TypeParam::descriptor(), &all, &seen);
  SetFields(req, &set);
  EXPECT_EQ(set, all);
  CheckTruncations(req);
  tw_test::RandomOtlp g(4242);
  for (int i = 0; i < 5; ++i) {
    TypeParam req = RandomRequest<TypeParam>(g);
    BreakSome(&req, g.rng(), 0.2);
    CheckTruncations(req);
  }
}

// Corrupts `b` in place: flips bits, overwrites, inserts or deletes bytes.
void Corrupt(std::string* b, std::mt19937_64& rng) {
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits && !b->empty(); ++e) {
    const size_t at = rng() % b->size();
    switch (rng() % 6) {
      case 0:
      case 1:
      case 2:
        (*b)[at] = static_cast<char>((*b)[at] ^ (1 << (rng() % 8)));
        break;
      case 3:
        (*b)[at] = static_cast<char>(rng());
        break;
      case 4:
        b->insert(b->begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(rng()));
        break;
      default:
        b->erase(at, 1);
        break;
    }
  }
}

template <typename Req>
void FuzzAgainstLibprotobuf(uint64_t seed, int iterations) {
  using S = Shape<Req>;
  google::protobuf::LogSilencer quiet;
  std::vector<std::string> corpus = {EveryFieldRequest<Req>().SerializeAsString()};
  tw_test::RandomOtlp g(seed);
  while (corpus.size() < 12) {
    Req req = RandomRequest<Req>(g);
    if (CountItems(req) == 0) continue;
    BreakSome(&req, g.rng(), 0.2);
    corpus.push_back(req.SerializeAsString());
  }
  std::mt19937_64 rng(seed);
  int lib_rejected = 0, lib_accepted = 0;
  for (int it = 0; it < iterations; ++it) {
    std::string b = corpus[rng() % corpus.size()];
    Corrupt(&b, rng);
    Req parsed;
    const bool lib_ok = parsed.ParseFromString(b);
    ExactBuffer buf(b);
    absl::StatusOr<ReadResult> r = ReadExportRequest(S::kSignal, buf.view());
    if (!lib_ok) {
      ++lib_rejected;
      ASSERT_FALSE(r.ok()) << "libprotobuf rejects, we accept; iteration " << it << ": "
                           << tw_test::Hex(b);
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    ++lib_accepted;
    ASSERT_TRUE(r.ok()) << "libprotobuf accepts, we reject; iteration " << it << ": "
                        << r.status() << "\n" << tw_test::Hex(b);
    SCOPED_TRACE(testing::Message() << "iteration " << it);
    CheckRead(b, parsed, /*check_visitor=*/false);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // Both outcomes must be well represented for the test to mean something.
  EXPECT_GT(lib_rejected, iterations / 10);
  EXPECT_GT(lib_accepted, iterations / 10);
}

TYPED_TEST(OtlpReaderTyped, CorruptionsAgreeWithLibprotobuf) {
  FuzzAgainstLibprotobuf<TypeParam>(777, 4000);
}

// ---- Nesting depth --------------------------------------------------------------

// Nests arrays `levels` deep under `v`, then ends with `tail`:
// 0 a scalar, 1 an empty kvlist, 2 a kvlist with one key-only entry.
void Nest(otc::AnyValue* v, int levels, int tail) {
  for (int i = 0; i < levels; ++i) v = v->mutable_array_value()->add_values();
  switch (tail) {
    case 0:
      v->set_int_value(1);
      break;
    case 1:
      v->mutable_kvlist_value();
      break;
    default:
      v->mutable_kvlist_value()->add_values()->set_key("k");
      break;
  }
}

template <typename Req>
void CheckDepthLimit(const std::function<void(Req*, int, int)>& build) {
  bool saw_accept = false, saw_reject = false;
  for (int levels = 40; levels <= 52; ++levels) {
    for (int tail = 0; tail < 3; ++tail) {
      Req req;
      build(&req, levels, tail);
      const std::string bytes = req.SerializeAsString();
      Req parsed;
      const bool lib_ok = parsed.ParseFromString(bytes);
      absl::StatusOr<ReadResult> r = ReadExportRequest(Shape<Req>::kSignal, bytes);
      EXPECT_EQ(r.ok(), lib_ok) << "levels " << levels << " tail " << tail << ": " << r.status();
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      }
      (lib_ok ? saw_accept : saw_reject) = true;
    }
  }
  EXPECT_TRUE(saw_accept && saw_reject) << "the scan should cross the limit";
}

TEST(OtlpReader, NestingDepthLimitMatchesLibprotobuf) {
  CheckDepthLimit<TraceRequest>([](TraceRequest* r, int levels, int tail) {
    ott::Span* s = r->add_resource_spans()->add_scope_spans()->add_spans();
    s->set_trace_id(tw_test::SeqBytes(16, 1));
    s->set_span_id(tw_test::SeqBytes(8, 1));
    Nest(s->add_attributes()->mutable_value(), levels, tail);
  });
  CheckDepthLimit<TraceRequest>([](TraceRequest* r, int levels, int tail) {
    ott::Span* s = r->add_resource_spans()->add_scope_spans()->add_spans();
    Nest(s->add_links()->add_attributes()->mutable_value(), levels, tail);
  });
  CheckDepthLimit<TraceRequest>([](TraceRequest* r, int levels, int tail) {
    Nest(r->add_resource_spans()->mutable_resource()->add_attributes()->mutable_value(), levels,
         tail);
  });
  CheckDepthLimit<TraceRequest>([](TraceRequest* r, int levels, int tail) {
    Nest(r->add_resource_spans()->add_scope_spans()->mutable_scope()->add_attributes()
             ->mutable_value(),
         levels, tail);
  });
  CheckDepthLimit<LogsRequest>([](LogsRequest* r, int levels, int tail) {
    Nest(r->add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body(), levels,
         tail);
  });
  CheckDepthLimit<MetricsRequest>([](MetricsRequest* r, int levels, int tail) {
    otm::Metric* m = r->add_resource_metrics()->add_scope_metrics()->add_metrics();
    m->set_name("m");
    otm::NumberDataPoint* p = m->mutable_gauge()->add_data_points();
    Nest(p->add_exemplars()->add_filtered_attributes()->mutable_value(), levels, tail);
  });
}

// Unknown groups nested `levels` deep, as an unknown field of `m`.
void AddNestedGroups(Message* m, int levels) {
  google::protobuf::UnknownFieldSet* u = m->GetReflection()->MutableUnknownFields(m);
  for (int i = 0; i < levels; ++i) u = u->AddGroup(100 + i);
  u->AddVarint(1, 1);
}

TEST(OtlpReader, GroupNestingCountsTowardsTheDepthLimit) {
  // libprotobuf counts groups and messages against one recursion limit.
  using Where = std::function<Message*(TraceRequest*)>;
  const std::vector<std::pair<std::string, Where>> places = {
      {"request", [](TraceRequest* r) -> Message* { return r; }},
      {"resource_spans", [](TraceRequest* r) -> Message* { return r->mutable_resource_spans(0); }},
      {"resource",
       [](TraceRequest* r) -> Message* { return r->mutable_resource_spans(0)->mutable_resource(); }},
      {"scope_spans",
       [](TraceRequest* r) -> Message* { return r->mutable_resource_spans(0)->mutable_scope_spans(0); }},
      {"span",
       [](TraceRequest* r) -> Message* {
         return r->mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0);
       }},
      {"key_value",
       [](TraceRequest* r) -> Message* {
         return r->mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)
             ->mutable_attributes(0);
       }},
      {"any_value",
       [](TraceRequest* r) -> Message* {
         return r->mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)
             ->mutable_attributes(0)->mutable_value();
       }},
      {"status",
       [](TraceRequest* r) -> Message* {
         return r->mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)
             ->mutable_status();
       }},
  };
  google::protobuf::LogSilencer quiet;
  for (const auto& [name, where] : places) {
    SCOPED_TRACE(name);
    bool saw_accept = false, saw_reject = false;
    for (int levels = 90; levels <= 101; ++levels) {
      TraceRequest req = FourSpans();
      req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)
          ->add_attributes()->set_key("k");
      AddNestedGroups(where(&req), levels);
      const std::string bytes = req.SerializeAsString();
      TraceRequest parsed;
      const bool lib_ok = parsed.ParseFromString(bytes);
      absl::StatusOr<ReadResult> r = ReadExportRequest(Signal::kTraces, bytes);
      EXPECT_EQ(r.ok(), lib_ok) << "levels " << levels << ": " << r.status();
      (lib_ok ? saw_accept : saw_reject) = true;
    }
    EXPECT_TRUE(saw_accept && saw_reject);
  }
}

// ---- UTF-8 ------------------------------------------------------------------------

// Well-formed UTF-8 byte sequences, straight from the Unicode standard's table
// (Table 3-7), as a reference independent of IsValidUtf8's decoding.
bool ReferenceUtf8(std::string_view s) {
  auto in = [](uint8_t b, int lo, int hi) { return b >= lo && b <= hi; };
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b0 = static_cast<uint8_t>(s[i]);
    auto at = [&](size_t k) -> int {
      return i + k < s.size() ? static_cast<uint8_t>(s[i + k]) : -1;
    };
    auto cont = [&](size_t k, int lo = 0x80, int hi = 0xBF) {
      const int b = at(k);
      return b >= 0 && in(static_cast<uint8_t>(b), lo, hi);
    };
    if (b0 <= 0x7F) {
      i += 1;
    } else if (in(b0, 0xC2, 0xDF) && cont(1)) {
      i += 2;
    } else if (b0 == 0xE0 && cont(1, 0xA0, 0xBF) && cont(2)) {
      i += 3;
    } else if ((in(b0, 0xE1, 0xEC) || in(b0, 0xEE, 0xEF)) && cont(1) && cont(2)) {
      i += 3;
    } else if (b0 == 0xED && cont(1, 0x80, 0x9F) && cont(2)) {
      i += 3;
    } else if (b0 == 0xF0 && cont(1, 0x90, 0xBF) && cont(2) && cont(3)) {
      i += 4;
    } else if (in(b0, 0xF1, 0xF3) && cont(1) && cont(2) && cont(3)) {
      i += 4;
    } else if (b0 == 0xF4 && cont(1, 0x80, 0x8F) && cont(2) && cont(3)) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

// What libprotobuf's parser says of `s` in a proto3 string field.
bool LibprotobufUtf8(const std::string& s) {
  google::protobuf::LogSilencer quiet;
  otc::KeyValue kv;
  std::string wire = "\x0a";
  uint64_t n = s.size();
  while (n >= 0x80) {
    wire.push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  wire.push_back(static_cast<char>(n));
  wire += s;
  return kv.ParseFromString(wire);
}

bool OurUtf8(std::string_view s) {
  ExactBuffer buf(s);
  return IsValidUtf8(buf.view());
}

const std::vector<std::string>& ValidUtf8Cases() {
  static const std::vector<std::string> cases = {
      "",
      "plain ascii",
      std::string("\0", 1),
      std::string("nul\0inside", 10),
      "\x7f",
      "\xc2\x80",              // U+0080
      "\xdf\xbf",              // U+07FF
      "\xe0\xa0\x80",          // U+0800
      "\xed\x9f\xbf",          // U+D7FF, just below the surrogates
      "\xee\x80\x80",          // U+E000, just above
      "\xef\xbf\xbd",          // U+FFFD
      "\xef\xbf\xbe",          // U+FFFE, a noncharacter but valid
      "\xef\xbf\xbf",          // U+FFFF
      "\xf0\x90\x80\x80",      // U+10000
      "\xf0\x9f\x98\x80",      // U+1F600
      "\xf4\x8f\xbf\xbf",      // U+10FFFF, the largest
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87",
  };
  return cases;
}

const std::vector<std::string>& InvalidUtf8Cases() {
  static const std::vector<std::string> cases = {
      "\x80",                          // lone continuation bytes
      "\xbf",
      "a\x80z",
      "\xc0\x80",                      // overlong NUL
      "\xc0\xaf",                      // overlong '/'
      "\xc1\xbf",                      // overlong U+007F
      "\xe0\x80\x80",                  // overlong 3-byte
      "\xe0\x9f\xbf",                  // overlong U+07FF
      "\xf0\x80\x80\x80",              // overlong 4-byte
      "\xf0\x8f\xbf\xbf",              // overlong U+FFFF
      "\xed\xa0\x80",                  // U+D800, a surrogate
      "\xed\xaf\xbf",                  // U+DBFF
      "\xed\xb0\x80",                  // U+DC00
      "\xed\xbf\xbf",                  // U+DFFF
      "\xed\xa0\xbd\xed\xb8\x80",      // a surrogate pair (CESU-8)
      "\xf4\x90\x80\x80",              // U+110000
      "\xf5\x80\x80\x80",              // lead bytes past F4
      "\xf7\xbf\xbf\xbf",
      "\xf8\x88\x80\x80\x80",          // 5-byte form
      "\xfc\x84\x80\x80\x80\x80",      // 6-byte form
      "\xfe",
      "\xff",
      "\xc2",                          // truncated at the end
      "\xe2\x82",
      "\xf0\x9f\x98",
      "\xc2" "A",                      // truncated before ASCII
      "\xe2\x82" "A",
      "\xf0\x9f\x98" "A",
      "\xe2\x28\xa1",                  // bad second byte
      "\xe2\x82\x28",                  // bad third byte
      "\xf0\x9f\x28\x80",
      "\xf0\x9f\x98\x28",
      "\xc2\xc2\x80",
  };
  return cases;
}

TEST(Utf8, ValidCases) {
  for (const std::string& s : ValidUtf8Cases()) {
    EXPECT_TRUE(OurUtf8(s)) << tw_test::Hex(s);
    EXPECT_TRUE(ReferenceUtf8(s)) << tw_test::Hex(s);
    EXPECT_TRUE(LibprotobufUtf8(s)) << tw_test::Hex(s);
  }
}

TEST(Utf8, InvalidCases) {
  for (const std::string& s : InvalidUtf8Cases()) {
    EXPECT_FALSE(OurUtf8(s)) << tw_test::Hex(s);
    EXPECT_FALSE(ReferenceUtf8(s)) << tw_test::Hex(s);
    EXPECT_FALSE(LibprotobufUtf8(s)) << tw_test::Hex(s);
  }
}

TEST(Utf8, EveryPositionAroundTheAsciiFastPath) {
  // The validator checks 8 ASCII bytes at a time: put each case at every
  // offset of a longer ASCII string, at its start, middle and end.
  for (size_t pad = 0; pad <= 20; ++pad) {
    for (size_t after : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{16}}) {
      for (const std::string& s : ValidUtf8Cases()) {
        const std::string t = std::string(pad, 'a') + s + std::string(after, 'z');
        EXPECT_TRUE(OurUtf8(t)) << pad << " " << after << " " << tw_test::Hex(s);
      }
      for (const std::string& s : InvalidUtf8Cases()) {
        const std::string t = std::string(pad, 'a') + s + std::string(after, 'z');
        EXPECT_FALSE(OurUtf8(t)) << pad << " " << after << " " << tw_test::Hex(s);
      }
    }
  }
  // A high byte in each position of an 8-byte word.
  for (size_t i = 0; i < 24; ++i) {
    std::string t(24, 'x');
    t[i] = '\x80';
    EXPECT_FALSE(OurUtf8(t)) << i;
    t[i] = '\x7f';
    EXPECT_TRUE(OurUtf8(t)) << i;
  }
}

TEST(Utf8, AllShortSequencesMatchTheStandard) {
  // Every 1- and 2-byte string, every 3-byte string with a multi-byte lead,
  // and every 4-byte string with a 4-byte lead and any second byte.
  int mismatches = 0;
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    mismatches += OurUtf8(s) != ReferenceUtf8(s);
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      mismatches += OurUtf8(s) != ReferenceUtf8(s);
    }
  }
  for (int a = 0xC0; a < 0x100; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        mismatches += IsValidUtf8(s) != ReferenceUtf8(s);
      }
    }
  }
  for (int a = 0xF0; a < 0x100; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c : {0x00, 0x7F, 0x80, 0xBF, 0xC0}) {
        for (int d : {0x41, 0x80, 0xBF, 0xC0}) {
          s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                    static_cast<char>(d)});
          mismatches += IsValidUtf8(s) != ReferenceUtf8(s);
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Utf8, RandomStringsAgreeWithLibprotobuf) {
  std::mt19937_64 rng(8);
  int valid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 14, '\0');
    for (char& c : s) {
      switch (rng() % 5) {
        case 0:
          c = static_cast<char>(rng() % 0x80);
          break;
        case 1:
          c = static_cast<char>(0x80 | (rng() % 0x40));  // continuation
          break;
        case 2:
          c = static_cast<char>(0xC0 | (rng() % 0x40));  // lead
          break;
        default:
          c = static_cast<char>(rng());
      }
    }
    // Valid UTF-8 is rare at random: splice in well-formed code points too.
    if (rng() % 2) {
      tw_test::RandomOtlp g(rng());
      s = g.String(6) + s.substr(0, rng() % 3) + g.String(6);
    }
    const bool ours = OurUtf8(s);
    EXPECT_EQ(ours, ReferenceUtf8(s)) << tw_test::Hex(s);
    EXPECT_EQ(ours, LibprotobufUtf8(s)) << tw_test::Hex(s);
    valid += ours;
  }
  EXPECT_GT(valid, 5000);
  EXPECT_LT(valid, 15000);
}

}  // namespace
}  // namespace tracewire::wire
