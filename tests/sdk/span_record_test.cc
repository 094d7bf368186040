// Span storage: interned strings, the compact records and their chunks.

#include "sdk/trace/span_record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "sdk/trace/record_encoder.h"
#include "sdk/trace/span_ref_access.h"
#include "sdk/trace/string_table.h"
#include "tracewire/span_exporter.h"
#include "tracewire/trace.h"
#include "wire/otlp_encoder.h"

namespace tracewire {
namespace {

using sdk::StringTable;

TEST(StringTable, SameBytesSameIdWhereverTheyLive) {
  const std::string a = "string.table.key";
  const std::string b = a;  // other storage
  const uint32_t id = StringTable::Intern(a);
  ASSERT_NE(id, 0u);
  EXPECT_EQ(StringTable::Intern(b), id);
  EXPECT_EQ(StringTable::Intern("string.table.key"), id);
  EXPECT_EQ(StringTable::Get(id), "string.table.key");
}

TEST(StringTable, ReusedBufferWithNewBytesGetsItsOwnId) {
  // The per-thread cache is keyed by address: the same buffer with other
  // contents must not get the old id.
  char buf[16] = "first.value";
  const uint32_t first = StringTable::Intern(std::string_view(buf, 11));
  std::memcpy(buf, "other.value", 11);
  const uint32_t other = StringTable::Intern(std::string_view(buf, 11));
  EXPECT_NE(first, other);
  EXPECT_EQ(StringTable::Get(first), "first.value");
  EXPECT_EQ(StringTable::Get(other), "other.value");
}

TEST(StringTable, TooLongIsNotInterned) {
  EXPECT_EQ(StringTable::Intern(std::string(StringTable::kMaxLength + 1, 'k')), 0u);
  EXPECT_NE(StringTable::Intern(std::string(StringTable::kMaxLength, 'k')), 0u);
}

// Keeps every span it is given, as a processor that holds SpanRefs would.
struct Keep : SpanProcessor {
  std::vector<SpanRef> kept;
  void OnEnd(SpanRef span) override { kept.push_back(std::move(span)); }
  absl::Status ForceFlush(absl::Time) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Time) override { return absl::OkStatus(); }
};

struct Harness {
  InMemorySpanExporter* exporter = nullptr;
  std::unique_ptr<TracerProvider> provider;
  Harness() {
    auto e = std::make_unique<InMemorySpanExporter>();
    exporter = e.get();
    TracerProviderOptions o;
    o.processors.push_back(MakeSimpleSpanProcessor(std::move(e)));
    provider = std::move(*TracerProvider::Create(std::move(o)));
  }
};

// Spans recorded one after another reuse one ActiveSpan, which remembers
// the literal keys of the span before by call order. A key from a buffer
// whose bytes change, or literals in another order, must still come out as
// given.
TEST(SpanRecord, KeysRememberedFromTheSpanBeforeNeverStandForOthers) {
  Harness h;
  Tracer* t = h.provider->GetTracer("x");
  char key[] = "key.a";
  const char* literals[2][2] = {{"first", "second"}, {"second", "first"}};
  for (int i = 0; i < 4; ++i) {
    key[4] = static_cast<char>('a' + i);  // same address, new bytes
    Span s = t->StartSpan(i % 2 ? "odd" : "even");
    s.SetAttribute(std::string_view(key), i);
    s.SetAttribute(literals[i % 2][0], 1);
    s.SetAttribute(literals[i % 2][1], 2);
    s.AddEvent(i % 2 ? "e.odd" : "e.even", {{i % 2 ? "k.odd" : "k.even", true}});
    s.End();
  }
  const auto spans = h.exporter->spans();
  ASSERT_EQ(spans.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const SpanData& d = spans[static_cast<size_t>(i)].data;
    EXPECT_EQ(d.name, i % 2 ? "odd" : "even");
    const std::string k = std::string("key.") + static_cast<char>('a' + i);
    EXPECT_EQ(d.attributes, (Attributes{{k, int64_t{i}},
                                        {literals[i % 2][0], int64_t{1}},
                                        {literals[i % 2][1], int64_t{2}}}))
        << i;
    ASSERT_EQ(d.events.size(), 1u);
    EXPECT_EQ(d.events[0].name, i % 2 ? "e.odd" : "e.even");
    EXPECT_EQ(d.events[0].attributes, (Attributes{{i % 2 ? "k.odd" : "k.even", true}}));
  }
}

// A key set twice is kept once, even when it is an empty view (no bytes, no
// address): nothing remembered stands for it.
TEST(SpanRecord, AnEmptyKeySetTwiceIsKeptOnce) {
  Harness h;
  Span s = h.provider->GetTracer("x")->StartSpan("s");
  s.SetAttribute(std::string_view(), int64_t{1});
  s.SetAttribute(std::string_view(), int64_t{2});
  s.End();
  const auto spans = h.exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].data.attributes, (Attributes{{"", int64_t{2}}}));
}

TEST(SpanRecord, KeysAndNamesTooLongToInternAreKeptWhole) {
  Harness h;
  const std::string long_key(300, 'a');
  const std::string long_name(200, 'n');
  Span s = h.provider->GetTracer("x")->StartSpan(long_name);
  s.SetAttribute(long_key, "one");
  s.SetAttribute("short", 1);
  s.SetAttribute(long_key, "replaced, and longer than before");
  s.AddEvent(long_name, {{long_key, 2.5}});
  s.End();
  const auto spans = h.exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& d = spans[0].data;
  EXPECT_EQ(d.name, long_name);
  EXPECT_EQ(d.attributes,
            (Attributes{{long_key, "replaced, and longer than before"}, {"short", 1}}));
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].name, long_name);
  EXPECT_EQ(d.events[0].attributes, (Attributes{{long_key, 2.5}}));
}

TEST(SpanRecord, EveryValueTypeRoundTrips) {
  Harness h;
  Span s = h.provider->GetTracer("x")->StartSpan("types");
  const Attributes want = {
      {"empty", AnyValue()},
      {"str", "s"},
      {"t", true},
      {"f", false},
      {"neg", int64_t{-1234567890123}},
      {"max", int64_t{INT64_MAX}},
      {"min", int64_t{INT64_MIN}},
      {"dbl", -0.125},
      {"bytes", Bytes{std::string("\0\xff", 2)}},
      {"arr", AnyValue::Array{AnyValue("x"), AnyValue(int64_t{1}), AnyValue(AnyValue::Array{})}},
      {"map", AnyValue::KvList{{"inner", AnyValue::KvList{{"deep", true}}}, {"n", 2.0}}},
  };
  for (const auto& kv : want) s.SetAttribute(kv.key, kv.value);
  s.End();
  const auto spans = h.exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].data.attributes, want);
}

// Seal writes the common span (short name, no trace state, status message
// or links) by a shorter path than the others: both read back the same.
TEST(SpanRecord, CommonAndGeneralSpansReadBackTheSame) {
  Harness h;
  Tracer* t = h.provider->GetTracer("x");
  for (const std::string name : {"sixteen-chars-ok", "seventeen-chars-x"}) {
    for (bool error : {false, true}) {
      Span s = t->StartSpan(name, SpanKind::kServer);
      s.SetAttribute("a", "b");
      s.SetAttribute("n", int64_t{300});
      s.AddEvent("e", {{"k", "v"}}, 5);
      s.AddEvent("f", {}, 6);
      s.SetStatus(error ? StatusCode::kError : StatusCode::kOk, "why");
      s.End(7);
    }
  }
  const auto spans = h.exporter->spans();
  ASSERT_EQ(spans.size(), 4u);
  for (const auto& f : spans) {
    const SpanData& d = f.data;
    EXPECT_EQ(d.attributes, (Attributes{{"a", "b"}, {"n", int64_t{300}}})) << d.name;
    ASSERT_EQ(d.events.size(), 2u) << d.name;
    EXPECT_EQ(d.events[0].name, "e");
    EXPECT_EQ(d.events[0].time_unix_nano, 5u);
    EXPECT_EQ(d.events[0].attributes, (Attributes{{"k", "v"}}));
    EXPECT_EQ(d.events[1].name, "f");
    EXPECT_TRUE(d.events[1].attributes.empty());
    EXPECT_TRUE(d.links.empty());
    EXPECT_EQ(d.dropped_attributes_count, 0u);
  }
  EXPECT_EQ(spans[0].data.name, "sixteen-chars-ok");
  EXPECT_EQ(spans[0].data.status_message, "");
  EXPECT_EQ(spans[1].data.status_message, "why");
  EXPECT_EQ(spans[3].data.name, "seventeen-chars-x");
}

TEST(SpanRecord, SpanBiggerThanAChunkRoundTrips) {
  Harness h;
  Tracer* t = h.provider->GetTracer("x");
  const std::string big(200 << 10, 'v');  // over the 64 KiB chunk
  for (int i = 0; i < 3; ++i) {
    Span small = t->StartSpan("small");
    small.SetAttribute("i", i);
    small.End();
    Span s = t->StartSpan("big");
    s.SetAttribute("big", big);
    s.End();
  }
  const auto spans = h.exporter->spans();
  ASSERT_EQ(spans.size(), 6u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(spans[2 * i].data.attributes, (Attributes{{"i", i}}));
    ASSERT_EQ(spans[2 * i + 1].data.attributes.size(), 1u);
    EXPECT_EQ(std::get<std::string>(spans[2 * i + 1].data.attributes[0].value.value), big);
  }
}

// Records live in chunks that are freed once their thread has moved on and
// every record in them is released: nothing is kept after a thread that
// ended many spans exits and the spans are exported.
TEST(SpanRecord, ChunksAreFreedWhenTheirSpansAreReleased) {
  auto bsp_exporter = std::make_unique<InMemorySpanExporter>();
  InMemorySpanExporter* exported = bsp_exporter.get();
  BatchSpanProcessorOptions bo;
  bo.max_queue_size = 20000;
  bo.schedule_delay = absl::Hours(1);  // spans stay queued until the flush
  TracerProviderOptions o;
  o.processors.push_back(BatchSpanProcessor::Create(std::move(bsp_exporter), bo));
  auto provider = std::move(*TracerProvider::Create(std::move(o)));
  Tracer* t = provider->GetTracer("x");
  const int64_t before = sdk::ChunksInUse();
  std::thread th([t] {
    for (int i = 0; i < 10000; ++i) {
      Span s = t->StartSpan("s");
      s.SetAttribute("value", "some bytes to fill the chunks faster");
      s.End();
    }
  });
  th.join();
  // 10,000 records of ~100 bytes: several chunks, all still referenced.
  EXPECT_GT(sdk::ChunksInUse(), before + 5);
  ASSERT_TRUE(provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(exported->spans().size(), 10000u);
  EXPECT_EQ(sdk::ChunksInUse(), before);
}

// Ends n spans named `name` on a thread of their own, each with attributes
// i (its number) and pad (100 bytes), so that they fill several chunks.
void EndPaddedSpans(Tracer* t, const char* name, int n) {
  std::thread th([t, name, n] {
    for (int i = 0; i < n; ++i) {
      Span s = t->StartSpan(name);
      s.SetAttribute("i", i);
      s.SetAttribute("pad", std::string(100, 'p'));
      s.End();
    }
  });
  th.join();
}

// The batch processor releases a batch at once; spans another processor
// still holds must live on, and their chunks with them.
TEST(SpanRecord, SpansHeldElsewhereOutliveTheBatch) {
  auto keep = std::make_unique<Keep>();
  Keep* k = keep.get();
  BatchSpanProcessorOptions bo;
  bo.max_queue_size = 5000;
  bo.max_export_batch_size = 100;
  TracerProviderOptions o;
  o.processors.push_back(BatchSpanProcessor::Create(MakeNoopSpanExporter(), bo));
  o.processors.push_back(std::move(keep));
  auto provider = std::move(*TracerProvider::Create(std::move(o)));
  Tracer* t = provider->GetTracer("x");
  const int64_t before = sdk::ChunksInUse();
  EndPaddedSpans(t, "held", 3000);
  ASSERT_TRUE(provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_EQ(k->kept.size(), 3000u);
  EXPECT_GT(sdk::ChunksInUse(), before);  // the batches are gone, the spans are not
  for (int i = 0; i < 3000; i += 97) {
    const SpanData& d = k->kept[static_cast<size_t>(i)].data();
    EXPECT_EQ(d.name, "held");
    EXPECT_EQ(d.attributes[0], (KeyValue{"i", i}));
  }
  k->kept.clear();
  EXPECT_EQ(sdk::ChunksInUse(), before);
}

// An exporter that keeps some spans of each batch (SpanRef copies, made on
// the export thread) and decodes others: the batch's release must leave the
// kept ones alone and free the decoded copies with their records (ASan's
// leak check, in `make asan`), and the chunks go when the kept spans do.
struct Picky : SpanExporter {
  std::vector<SpanRef> kept;
  int64_t decoded = 0;
  absl::Status Export(std::span<const SpanRef> spans) override {
    for (const SpanRef& s : spans) {
      const int64_t i = std::get<int64_t>(s.data().attributes[0].value.value);
      ++decoded;
      if (i % 7 == 0) kept.push_back(s);
    }
    return absl::OkStatus();
  }
};

TEST(SpanRecord, AnExporterMayKeepOrDecodeSpansOfItsBatch) {
  auto picky = std::make_unique<Picky>();
  Picky* p = picky.get();
  BatchSpanProcessorOptions bo;
  bo.max_queue_size = 5000;
  bo.max_export_batch_size = 64;
  TracerProviderOptions o;
  o.processors.push_back(BatchSpanProcessor::Create(std::move(picky), bo));
  auto provider = std::move(*TracerProvider::Create(std::move(o)));
  Tracer* t = provider->GetTracer("x");
  const int64_t before = sdk::ChunksInUse();
  EndPaddedSpans(t, "picked", 3000);
  ASSERT_TRUE(provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(p->decoded, 3000);
  ASSERT_EQ(p->kept.size(), 3000u / 7 + 1);
  EXPECT_GT(sdk::ChunksInUse(), before);
  // (Export order is not promised: one thread fills its stripe of the queue,
  // then another.)
  std::vector<int64_t> seen;
  for (const SpanRef& r : p->kept) {
    const SpanData& d = r.data();
    EXPECT_EQ(d.name, "picked");
    ASSERT_EQ(d.attributes.size(), 2u);
    seen.push_back(std::get<int64_t>(d.attributes[0].value.value));
    EXPECT_EQ(d.attributes[1], (KeyValue{"pad", std::string(100, 'p')}));
  }
  std::sort(seen.begin(), seen.end());
  for (size_t k = 0; k < seen.size(); ++k) EXPECT_EQ(seen[k], static_cast<int64_t>(k * 7));
  p->kept.clear();
  EXPECT_EQ(sdk::ChunksInUse(), before);
}

// A span may end in a thread_local's destructor, after the SDK's own
// per-thread state was freed: it is still recorded, and nothing is kept.
TEST(SpanRecord, SpanEndedWhileItsThreadExitsIsRecorded) {
  Harness h;
  Tracer* t = h.provider->GetTracer("x");
  const int64_t before = sdk::ChunksInUse();
  std::thread th([t] {
    struct EndsAtExit {
      Span span;
      ~EndsAtExit() { span.End(); }
    };
    // Built before the thread's first span, so destroyed after the SDK's
    // per-thread state (thread_locals go in reverse order of construction).
    thread_local EndsAtExit holder;
    holder.span = t->StartSpan("late");
    holder.span.SetAttribute("k", "v");
    t->StartSpan("early").End();
  });
  th.join();
  const auto spans = h.exporter->spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].data.name, "early");
  EXPECT_EQ(spans[1].data.name, "late");
  EXPECT_EQ(spans[1].data.attributes, (Attributes{{"k", "v"}}));
  EXPECT_EQ(sdk::ChunksInUse(), before);
}

TEST(SpanRecord, DataIsDecodedOnceForEveryThread) {
  auto keep = std::make_unique<Keep>();
  Keep* k = keep.get();
  TracerProviderOptions o;
  o.processors.push_back(std::move(keep));
  auto provider = std::move(*TracerProvider::Create(std::move(o)));
  Span s = provider->GetTracer("x")->StartSpan("shared");
  s.SetAttribute("a", 1);
  s.End();
  ASSERT_EQ(k->kept.size(), 1u);
  const SpanData* seen[4] = {};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i, ref = k->kept[0]] { seen[i] = &ref.data(); });
  }
  for (auto& th : threads) th.join();
  for (const SpanData* d : seen) {
    EXPECT_EQ(d, seen[0]);
    EXPECT_EQ(d->name, "shared");
  }
  EXPECT_EQ(k->kept[0].flags() & kTraceFlagSampled, kTraceFlagSampled);
}

TEST(SpanRecord, OnStartCanSetAttributes) {
  struct Tagger : SpanProcessor {
    void OnStart(Span& span, const Context&) override { span.SetAttribute("tagged.by", "onstart"); }
    void OnEnd(SpanRef) override {}
    absl::Status ForceFlush(absl::Time) override { return absl::OkStatus(); }
    absl::Status Shutdown(absl::Time) override { return absl::OkStatus(); }
  };
  auto e = std::make_unique<InMemorySpanExporter>();
  InMemorySpanExporter* exported = e.get();
  TracerProviderOptions o;
  o.processors.push_back(std::make_unique<Tagger>());
  o.processors.push_back(MakeSimpleSpanProcessor(std::move(e)));
  auto provider = std::move(*TracerProvider::Create(std::move(o)));
  provider->GetTracer("x")->StartSpan("s").End();
  ASSERT_EQ(exported->spans().size(), 1u);
  EXPECT_EQ(exported->spans()[0].data.attributes, (Attributes{{"tagged.by", "onstart"}}));
}

// The OTLP exporter encodes records straight to Span messages: the bytes must
// be those of the decoded span through the SpanData encoder, for every field.
TEST(SpanRecord, EncodesTheSameBytesAsTheDecodedSpan) {
  auto keep = std::make_unique<Keep>();
  Keep* k = keep.get();
  TracerProviderOptions o;
  o.resource.attributes = {{"service.name", "enc"}};
  o.limits.attribute_count = 12;
  o.limits.event_count = 2;
  o.limits.link_count = 1;
  o.processors.push_back(std::move(keep));
  auto provider = std::move(*TracerProvider::Create(std::move(o)));
  Tracer* t = provider->GetTracer("scope", "2.0", "https://schema", {{"scope.attr", 1}});

  SpanContext remote;
  remote.trace_id.fill(3);
  remote.span_id.fill(4);
  remote.trace_flags = kTraceFlagSampled;
  remote.is_remote = true;
  remote.trace_state = "vendor=value";
  StartSpanOptions so;
  so.kind = SpanKind::kClient;
  so.parent = Context().WithSpanContext(remote);
  so.attributes = {{"start", "attr"}};
  so.start_time_unix_nano = 1'700'000'000'000'000'000;
  Span full = t->StartSpan("full", so);
  full.SetAttribute("str", std::string(300, 'x'));  // a two-byte length
  full.SetAttribute("neg", int64_t{-5});
  full.SetAttribute("dbl", 0.0);
  full.SetAttribute("f", false);
  full.SetAttribute("empty", AnyValue());
  full.SetAttribute("", "empty key");
  full.SetAttribute("bytes", Bytes{std::string("\0\1", 2)});
  full.SetAttribute("arr", AnyValue::Array{AnyValue("a"), AnyValue(AnyValue::Array{AnyValue(1)}),
                                           AnyValue(AnyValue::KvList{{"k", 2.5}})});
  full.SetAttribute("map", AnyValue::KvList{{"inner", AnyValue::Array{}}, {"b", true}});
  for (int i = 0; i < 5; ++i) full.SetAttribute("over" + std::to_string(i), i);  // some dropped
  full.AddEvent("early", {{"k", "v"}, {"t", true}, {"big", int64_t{1} << 40}},
                so.start_time_unix_nano - 10);  // before the start
  full.AddEvent("ev", Attributes{{"list", AnyValue::Array{AnyValue("x")}}});
  full.AddEvent("dropped");
  SpanContext link;
  link.trace_id.fill(9);
  link.span_id.fill(8);
  link.trace_state = "a=b";
  full.AddLink(link, {{"l", "x"}, {"m", AnyValue::KvList{}}});
  full.AddLink(link);  // dropped
  full.SetStatus(StatusCode::kError, "broken");
  full.End(so.start_time_unix_nano + 1000);

  Span bare = t->StartSpan("");  // root, no attributes, unset status
  bare.End();
  Span ok = t->StartSpan("ok");
  ok.SetStatus(StatusCode::kOk);
  ok.End();

  ASSERT_EQ(k->kept.size(), 3u);
  sdk::RecordEncoder encoder;
  for (const SpanRef& r : k->kept) {
    sdk::ByteBuf buf;
    encoder.Append(*sdk::SpanRefAccess::Get(r), &buf);
    const std::string message(buf.data(), buf.size());
    const wire::EncodedSpan encoded{message};
    const ScopedItems<wire::EncodedSpan> ours{&r.resource(), &r.scope(), {&encoded}};
    const ScopedItems<SpanData> theirs{&r.resource(), &r.scope(), {&r.data()}};
    std::string a, b;
    wire::EncodeTracesRequest(std::span(&ours, 1), &a);
    wire::EncodeTracesRequest(std::span(&theirs, 1), &b);
    EXPECT_EQ(a, b) << r.data().name;
    EXPECT_EQ(message.size(), wire::EncodedSpanSize(r.data()));
  }
  const SpanData& d = k->kept[0].data();
  EXPECT_EQ(d.dropped_attributes_count, 3u);
  EXPECT_EQ(d.dropped_events_count, 1u);
  EXPECT_EQ(d.dropped_links_count, 1u);
  EXPECT_EQ(d.events[0].time_unix_nano, so.start_time_unix_nano - 10);
}

// Requests over the size limit split at the same spans either way.
TEST(SpanRecord, EncodedSpansSplitLikeTheDecodedOnes) {
  auto keep = std::make_unique<Keep>();
  Keep* k = keep.get();
  TracerProviderOptions o;
  o.processors.push_back(std::move(keep));
  auto provider = std::move(*TracerProvider::Create(std::move(o)));
  Tracer* a = provider->GetTracer("a");
  Tracer* b = provider->GetTracer("b");
  for (int i = 0; i < 60; ++i) {
    Span s = (i % 3 ? a : b)->StartSpan("span");
    s.SetAttribute("i", i);
    s.SetAttribute("pad", std::string(static_cast<size_t>(i * 7), 'p'));
    s.End();
  }
  sdk::RecordEncoder encoder;
  std::vector<std::string> messages(k->kept.size());
  std::vector<wire::EncodedSpan> encoded(k->kept.size());
  std::vector<ScopedItems<wire::EncodedSpan>> ours;
  std::vector<ScopedItems<SpanData>> theirs;
  for (size_t i = 0; i < k->kept.size(); ++i) {
    const SpanRef& r = k->kept[i];
    sdk::ByteBuf buf;
    encoder.Append(*sdk::SpanRefAccess::Get(r), &buf);
    messages[i].assign(buf.data(), buf.size());
    encoded[i].message = messages[i];
    ours.push_back({&r.resource(), &r.scope(), {&encoded[i]}});
    theirs.push_back({&r.resource(), &r.scope(), {&r.data()}});
  }
  const auto ours_split =
      wire::SplitTracesRequest(std::span<const ScopedItems<wire::EncodedSpan>>(ours), 2000);
  const auto theirs_split =
      wire::SplitTracesRequest(std::span<const ScopedItems<SpanData>>(theirs), 2000);
  ASSERT_GT(theirs_split.size(), 3u);
  ASSERT_EQ(ours_split.size(), theirs_split.size());
  for (size_t i = 0; i < ours_split.size(); ++i) {
    std::string x, y;
    wire::EncodeTracesRequest(ours_split[i].groups, &x);
    wire::EncodeTracesRequest(theirs_split[i].groups, &y);
    EXPECT_EQ(x, y) << "request " << i;
    EXPECT_EQ(x.size(), ours_split[i].encoded_size);
    EXPECT_LE(x.size(), 2000u);
  }
}

}  // namespace
}  // namespace tracewire
