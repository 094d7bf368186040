#include "wire/proto_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/empty.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "wire/proto_writer.h"
#include "wire/test_messages.h"

namespace tracewire::wire {
namespace {

using ::google::protobuf::internal::WireFormatLite;
using tw_test::ExactBuffer;

// Independent encoders, so the tests do not lean on proto_writer.h.
std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string Tag(uint32_t number, int wire_type) {
  return Varint((static_cast<uint64_t>(number) << 3) | static_cast<uint64_t>(wire_type));
}
std::string Fixed32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}
std::string Fixed64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}
std::string Len(uint32_t number, std::string_view payload) {
  return Tag(number, 2) + Varint(payload.size()) + std::string(payload);
}

struct ReadAll {
  std::vector<Field> fields;
  bool ok = false;
};
ReadAll Read(std::string_view bytes) {
  ReadAll out;
  ProtoReader r(bytes);
  Field f;
  while (r.Next(&f)) out.fields.push_back(f);
  out.ok = r.ok();
  return out;
}

// Parses with libprotobuf's message parser (all fields unknown).
bool LibprotobufAccepts(const std::string& bytes) {
  google::protobuf::Empty m;
  return m.ParseFromString(bytes);
}

TEST(ProtoReader, EmptyInputIsOkWithNoFields) {
  ProtoReader r("");
  Field f;
  EXPECT_FALSE(r.Next(&f));
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
}

TEST(ProtoReader, VarintsOfEveryLength) {
  for (int len = 1; len <= 10; ++len) {
    const uint64_t lo = len == 1 ? 0 : uint64_t{1} << (7 * (len - 1));
    const uint64_t hi = len == 10 ? std::numeric_limits<uint64_t>::max()
                                  : (uint64_t{1} << (7 * len)) - 1;
    for (uint64_t v : {lo, hi, lo + (hi - lo) / 3}) {
      SCOPED_TRACE(testing::Message() << "len " << len << " value " << v);
      const std::string enc = Varint(v);
      ASSERT_EQ(enc.size(), static_cast<size_t>(len));
      const std::string msg = Tag(1, 0) + enc;
      ExactBuffer buf(msg);
      ProtoReader r(buf.view());
      Field f;
      ASSERT_TRUE(r.Next(&f));
      EXPECT_EQ(f.number, 1u);
      EXPECT_EQ(f.type, WireType::kVarint);
      EXPECT_EQ(f.value, v);
      EXPECT_EQ(f.begin, buf.view().data());
      EXPECT_EQ(f.end, buf.view().data() + msg.size());
      EXPECT_FALSE(r.Next(&f));
      EXPECT_TRUE(r.ok());

      // DecodeVarint directly, and every truncation of it.
      const char* p = enc.data();
      uint64_t out = 0;
      ASSERT_TRUE(ProtoReader::DecodeVarint(&p, enc.data() + enc.size(), &out));
      EXPECT_EQ(out, v);
      EXPECT_EQ(p, enc.data() + enc.size());
      for (int cut = 0; cut < len; ++cut) {
        ExactBuffer part(std::string_view(enc).substr(0, cut));
        const char* q = part.view().data();
        EXPECT_FALSE(ProtoReader::DecodeVarint(&q, q + cut, &out)) << "cut " << cut;
        EXPECT_EQ(q, part.view().data()) << "must not advance on failure";
        EXPECT_FALSE(Read(Tag(1, 0) + std::string(part.view())).ok);
      }
    }
  }
}

TEST(ProtoReader, MaxUint64Varint) {
  const std::string enc = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
  ReadAll r = Read("\x08" + enc);
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_EQ(r.fields[0].value, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(Varint(std::numeric_limits<uint64_t>::max()), enc);
}

TEST(ProtoReader, ElevenByteVarintIsRejected) {
  const std::string enc = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x01";
  const char* p = enc.data();
  uint64_t v;
  EXPECT_FALSE(ProtoReader::DecodeVarint(&p, enc.data() + enc.size(), &v));
  EXPECT_FALSE(Read("\x08" + enc).ok);
  EXPECT_FALSE(LibprotobufAccepts("\x08" + enc));
}

TEST(ProtoReader, NonCanonicalVarintValuesAgreeWithLibprotobuf) {
  // Value varints may be padded up to 10 bytes; bits past 64 are dropped.
  struct Case {
    std::string enc;
    uint64_t value;
  };
  const Case cases[] = {
      {std::string("\x81\x80\x80\x00", 4), 1},
      {std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 10), 0},
      {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", std::numeric_limits<uint64_t>::max()},
      {"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(tw_test::Hex(c.enc));
    // InstrumentationScope.dropped_attributes_count is uint32 field 4.
    const std::string msg = "\x20" + c.enc;
    ReadAll r = Read(msg);
    ASSERT_TRUE(r.ok);
    ASSERT_EQ(r.fields.size(), 1u);
    EXPECT_EQ(r.fields[0].value, c.value);
    tw_test::otc::InstrumentationScope scope;
    ASSERT_TRUE(scope.ParseFromString(msg));
    EXPECT_EQ(scope.dropped_attributes_count(), static_cast<uint32_t>(c.value));
  }
}

TEST(ProtoReader, Fixed32AndFixed64) {
  for (uint32_t v : {0u, 1u, 0x12345678u, 0xFFFFFFFFu}) {
    ReadAll r = Read(Tag(16, 5) + Fixed32(v));
    ASSERT_TRUE(r.ok);
    ASSERT_EQ(r.fields.size(), 1u);
    EXPECT_EQ(r.fields[0].number, 16u);
    EXPECT_EQ(r.fields[0].type, WireType::kFixed32);
    EXPECT_EQ(r.fields[0].value, v);
  }
  for (uint64_t v : {uint64_t{0}, uint64_t{0x0102030405060708}, std::numeric_limits<uint64_t>::max()}) {
    ReadAll r = Read(Tag(7, 1) + Fixed64(v));
    ASSERT_TRUE(r.ok);
    ASSERT_EQ(r.fields.size(), 1u);
    EXPECT_EQ(r.fields[0].type, WireType::kFixed64);
    EXPECT_EQ(r.fields[0].value, v);
  }
  // Little-endian byte order.
  ReadAll r = Read(std::string("\x39\x01\x02\x03\x04\x05\x06\x07\x08", 9));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.fields[0].value, 0x0807060504030201ull);
}

TEST(ProtoReader, TruncatedFixedIsRejected) {
  for (int n = 0; n < 8; ++n) {
    ExactBuffer b(Tag(1, 1) + std::string(n, 'x'));
    EXPECT_FALSE(Read(b.view()).ok) << n;
  }
  for (int n = 0; n < 4; ++n) {
    ExactBuffer b(Tag(1, 5) + std::string(n, 'x'));
    EXPECT_FALSE(Read(b.view()).ok) << n;
  }
}

TEST(ProtoReader, LengthDelimited) {
  const std::string msg = Len(2, "hello") + Len(3, "") + Tag(4, 0) + Varint(300);
  ExactBuffer buf(msg);
  ReadAll r = Read(buf.view());
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.fields.size(), 3u);
  EXPECT_EQ(r.fields[0].number, 2u);
  EXPECT_EQ(r.fields[0].type, WireType::kLen);
  EXPECT_EQ(r.fields[0].bytes, "hello");
  EXPECT_EQ(r.fields[0].bytes.data(), buf.view().data() + 2) << "a view into the buffer";
  EXPECT_EQ(r.fields[0].end, buf.view().data() + 7);
  EXPECT_EQ(r.fields[1].bytes, "");
  EXPECT_EQ(r.fields[1].begin, r.fields[0].end);
  EXPECT_EQ(r.fields[2].value, 300u);
  EXPECT_EQ(r.fields[2].end, buf.view().data() + msg.size());

  // A payload of 200 bytes (two-byte length).
  const std::string big(200, 'z');
  const std::string big_msg = Len(1, big);
  ReadAll r2 = Read(big_msg);
  ASSERT_TRUE(r2.ok);
  EXPECT_EQ(r2.fields[0].bytes, big);
}

TEST(ProtoReader, LengthPastEndIsRejected) {
  ExactBuffer one_short(Tag(1, 2) + Varint(5) + "abcd");
  EXPECT_FALSE(Read(one_short.view()).ok);
  ExactBuffer huge(Tag(1, 2) + Varint(std::numeric_limits<uint64_t>::max()) + "abcd");
  EXPECT_FALSE(Read(huge.view()).ok);
  ExactBuffer big(Tag(1, 2) + Varint(uint64_t{1} << 40) + "abcd");
  EXPECT_FALSE(Read(big.view()).ok);
  ExactBuffer truncated_len(Tag(1, 2) + "\x80");
  EXPECT_FALSE(Read(truncated_len.view()).ok);
  ExactBuffer no_len(Tag(1, 2));
  EXPECT_FALSE(Read(no_len.view()).ok);
  // Exactly to the end is fine.
  ExactBuffer exact(Tag(1, 2) + Varint(4) + "abcd");
  EXPECT_TRUE(Read(exact.view()).ok);
}

TEST(ProtoReader, FailureIsSticky) {
  const std::string msg = Tag(1, 0) + Varint(1) + Tag(2, 7) + Tag(3, 0) + Varint(3);
  ProtoReader r(msg);
  Field f;
  ASSERT_TRUE(r.Next(&f));
  EXPECT_EQ(f.number, 1u);
  EXPECT_FALSE(r.Next(&f));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.Next(&f));
  EXPECT_FALSE(r.ok());
}

TEST(ProtoReader, GroupsAreSkippedWithTheirBody) {
  const std::string body = Tag(1, 0) + Varint(150) + Tag(2, 1) + Fixed64(9) + Len(3, "abc") +
                           Tag(4, 5) + Fixed32(7) + Tag(5, 3) + Tag(1, 0) + Varint(1) + Tag(5, 4);
  const std::string msg = Tag(1, 0) + Varint(1) + Tag(9, 3) + body + Tag(9, 4) + Len(2, "after");
  ExactBuffer buf(msg);
  ReadAll r = Read(buf.view());
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.fields.size(), 3u);
  EXPECT_EQ(r.fields[1].number, 9u);
  EXPECT_EQ(r.fields[1].type, WireType::kStartGroup);
  EXPECT_EQ(r.fields[1].bytes, body);
  EXPECT_EQ(r.fields[1].end, r.fields[2].begin);
  EXPECT_EQ(r.fields[2].bytes, "after");
  EXPECT_TRUE(LibprotobufAccepts(msg));

  // An empty group.
  ReadAll e = Read(Tag(3, 3) + Tag(3, 4));
  ASSERT_TRUE(e.ok);
  ASSERT_EQ(e.fields.size(), 1u);
  EXPECT_EQ(e.fields[0].bytes, "");
}

TEST(ProtoReader, MalformedGroupsAreRejected) {
  const std::vector<std::string> bad = {
      Tag(9, 3) + Tag(1, 0) + Varint(1),                          // unterminated
      Tag(9, 3),                                                  // unterminated, empty
      Tag(9, 3) + Tag(8, 4),                                      // wrong end number
      Tag(9, 4),                                                  // end without start
      Tag(1, 0) + Varint(1) + Tag(1, 4),                          // end without start
      Tag(9, 3) + Tag(5, 3) + Tag(6, 4) + Tag(9, 4),              // nested: wrong end number
      Tag(9, 3) + Tag(5, 3) + Tag(9, 4) + Tag(5, 4),              // nested: crossed ends
      Tag(9, 3) + Tag(1, 2) + Varint(10) + "abc" + Tag(9, 4),     // length past end inside
      Tag(9, 3) + Tag(1, 6) + Tag(9, 4),                          // wire type 6 inside
      Tag(9, 3) + Tag(1, 7) + Tag(9, 4),                          // wire type 7 inside
      Tag(9, 3) + std::string("\x00", 1) + Varint(0) + Tag(9, 4), // field 0 inside
      Tag(9, 3) + Tag(1, 1) + "1234" + Tag(9, 4),                 // truncated fixed64 inside
  };
  for (const std::string& b : bad) {
    SCOPED_TRACE(tw_test::Hex(b));
    ExactBuffer buf(b);
    EXPECT_FALSE(Read(buf.view()).ok);
    EXPECT_FALSE(LibprotobufAccepts(b)) << "test case should be invalid for libprotobuf too";
  }
}

TEST(ProtoReader, DeeplyNestedGroups) {
  auto nest = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += Tag(static_cast<uint32_t>(i + 1), 3);
    for (int i = depth; i > 0; --i) s += Tag(static_cast<uint32_t>(i), 4);
    return s;
  };
  EXPECT_TRUE(Read(nest(10)).ok);
  EXPECT_TRUE(Read(nest(64)).ok);
  // libprotobuf's recursion limit (100) bounds group nesting too.
  EXPECT_TRUE(LibprotobufAccepts(nest(100)));
  EXPECT_TRUE(Read(nest(100)).ok);
  EXPECT_FALSE(LibprotobufAccepts(nest(101)));
  EXPECT_FALSE(Read(nest(101)).ok);
  EXPECT_FALSE(Read(nest(5000)).ok);
}

TEST(ProtoReader, FieldNumberZeroIsRejected) {
  for (int wt : {0, 1, 2, 5}) {
    std::string msg = Tag(0, wt) + std::string(9, '\x01');
    SCOPED_TRACE(tw_test::Hex(msg));
    ExactBuffer buf(msg);
    ProtoReader r(buf.view());
    Field f;
    EXPECT_FALSE(r.Next(&f));
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(LibprotobufAccepts(msg));
  }
  // After a valid field too.
  ReadAll r = Read(Tag(1, 0) + Varint(1) + std::string("\x00\x00", 2));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.fields.size(), 1u);
}

TEST(ProtoReader, WireTypesSixAndSevenAreRejected) {
  for (int wt : {6, 7}) {
    for (uint32_t number : {1u, 15u, 16u, 536870911u}) {
      const std::string msg = Tag(number, wt) + "\x01\x02\x03\x04\x05\x06\x07\x08";
      ReadAll r = Read(msg);
      EXPECT_FALSE(r.ok) << wt << " " << number;
      EXPECT_TRUE(r.fields.empty());
      EXPECT_FALSE(LibprotobufAccepts(msg));
    }
  }
}

TEST(ProtoReader, FieldNumberRange) {
  ReadAll r = Read(Tag(536870911u, 0) + Varint(5));  // 2^29 - 1, the largest.
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.fields[0].number, 536870911u);
  EXPECT_EQ(r.fields[0].value, 5u);
  // A tag past 32 bits.
  EXPECT_FALSE(Read(Varint(uint64_t{1} << 35) + Varint(5)).ok);
}

TEST(ProtoReader, OverlongTagsAndLengthsAgreeWithLibprotobuf) {
  // libprotobuf reads tags and lengths as at most 5-byte varints, and lengths
  // below 2 GiB; padded (non-minimal) forms up to that size are fine.
  struct Case {
    std::string bytes;
    bool valid;
  };
  const Case cases[] = {
      {std::string("\x88\x00\x05", 3), true},                          // 2-byte tag
      {std::string("\x88\x80\x80\x80\x00\x05", 6), true},              // 5-byte tag
      {std::string("\x88\x80\x80\x80\x80\x00\x05", 7), false},         // 6-byte tag
      {std::string("\x88\x80\x80\x80\x80\x80\x80\x80\x80\x00\x05", 11), false},  // 10-byte tag
      {std::string("\x0a\x83\x80\x80\x80\x00" "abc", 9), true},        // 5-byte length
      {std::string("\x0a\x83\x80\x80\x80\x80\x00" "abc", 10), false},  // 6-byte length
      {std::string("\x0a\x83\x80\x80\x80\x80\x80\x80\x80\x00" "abc", 13), false},
      // Inside a group too.
      {std::string("\x0b\x88\x80\x80\x80\x80\x00\x05\x0c", 9), false},
      {std::string("\x0b\x12\x83\x80\x80\x80\x80\x00" "abc\x0c", 12), false},
      {std::string("\x0b\x12\x83\x80\x80\x80\x00" "abc\x0c", 11), true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(tw_test::Hex(c.bytes));
    ASSERT_EQ(LibprotobufAccepts(c.bytes), c.valid) << "test case assumption";
    ExactBuffer buf(c.bytes);
    EXPECT_EQ(Read(buf.view()).ok, c.valid);
  }
}

TEST(ProtoReader, ZigZagDecode) {
  EXPECT_EQ(ZigZagDecode64(0), 0);
  EXPECT_EQ(ZigZagDecode64(1), -1);
  EXPECT_EQ(ZigZagDecode64(2), 1);
  EXPECT_EQ(ZigZagDecode64(3), -2);
  EXPECT_EQ(ZigZagDecode64(0xFFFFFFFFFFFFFFFEull), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ZigZagDecode64(0xFFFFFFFFFFFFFFFFull), std::numeric_limits<int64_t>::min());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = rng();
    EXPECT_EQ(ZigZagDecode64(v), WireFormatLite::ZigZagDecode64(v));
    const int64_t s = static_cast<int64_t>(rng());
    EXPECT_EQ(ZigZagDecode64(WireFormatLite::ZigZagEncode64(s)), s);
  }
}

TEST(ProtoReader, PackedVarints) {
  std::vector<uint64_t> want = {0, 1, 127, 128, 300, std::numeric_limits<uint64_t>::max()};
  std::string run;
  for (uint64_t v : want) run += Varint(v);
  std::vector<uint64_t> got;
  EXPECT_TRUE(ForEachPackedVarint(run, [&](uint64_t v) { got.push_back(v); }));
  EXPECT_EQ(got, want);

  got.clear();
  EXPECT_TRUE(ForEachPackedVarint("", [&](uint64_t v) { got.push_back(v); }));
  EXPECT_TRUE(got.empty());

  ExactBuffer truncated(Varint(5) + "\x80\x80");
  got.clear();
  EXPECT_FALSE(ForEachPackedVarint(truncated.view(), [&](uint64_t v) { got.push_back(v); }));
  EXPECT_EQ(got, std::vector<uint64_t>{5});
}

TEST(ProtoReader, WriterHelpersMatchLibprotobuf) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 500; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    std::string ours;
    AppendVarint(&ours, v);
    std::string theirs;
    {
      google::protobuf::io::StringOutputStream zs(&theirs);
      google::protobuf::io::CodedOutputStream cos(&zs);
      cos.WriteVarint64(v);
    }
    EXPECT_EQ(ours, theirs);
  }
  std::string field;
  AppendLenField(&field, 2, std::string(130, 'a'));
  EXPECT_EQ(field, Len(2, std::string(130, 'a')));
}

// Walks a message and, recursively, every length-delimited payload that parses
// as a message; checks all views stay inside [lo, hi).
void WalkEverything(std::string_view bytes, const char* lo, const char* hi, int depth,
                    int64_t* fields) {
  ProtoReader r(bytes);
  Field f;
  while (r.Next(&f)) {
    ++*fields;
    ASSERT_GE(f.begin, lo);
    ASSERT_LE(f.end, hi);
    ASSERT_LT(f.begin, f.end);
    if (f.type == WireType::kLen || f.type == WireType::kStartGroup) {
      if (!f.bytes.empty()) {
        ASSERT_GE(f.bytes.data(), lo);
        ASSERT_LE(f.bytes.data() + f.bytes.size(), hi);
      }
      if (depth < 40) WalkEverything(f.bytes, lo, hi, depth + 1, fields);
    }
  }
  ASSERT_LE(r.position(), hi);
}

TEST(ProtoReader, TruncationAtEveryOffsetOfARealMessage) {
  const tw_test::TraceRequest req = tw_test::EveryFieldTraceRequest();
  const std::string full = req.SerializeAsString();
  ASSERT_GT(full.size(), 1000u);
  // Top-level field boundaries: ends of each resource_spans entry.
  std::vector<size_t> boundaries = {0};
  size_t pos = 0;
  for (const auto& rs : req.resource_spans()) {
    const size_t n = rs.ByteSizeLong();
    pos += 1 + static_cast<size_t>(google::protobuf::io::CodedOutputStream::VarintSize64(n)) + n;
    boundaries.push_back(pos);
  }
  ASSERT_EQ(pos, full.size());

  for (size_t n = 0; n <= full.size(); ++n) {
    SCOPED_TRACE(testing::Message() << "prefix " << n << " of " << full.size());
    ExactBuffer buf(std::string_view(full).substr(0, n));
    const std::string_view v = buf.view();
    int64_t fields = 0;
    WalkEverything(v, v.data(), v.data() + v.size(), 0, &fields);
    ReadAll top = Read(v);
    const auto it = std::find(boundaries.begin(), boundaries.end(), n);
    if (it != boundaries.end()) {
      EXPECT_TRUE(top.ok);
      EXPECT_EQ(top.fields.size(), static_cast<size_t>(it - boundaries.begin()));
    } else {
      EXPECT_FALSE(top.ok);
      EXPECT_LT(top.fields.size(), boundaries.size() - 1);
    }
  }
}

TEST(ProtoReader, RandomBytesAgreeWithLibprotobuf) {
  std::mt19937_64 rng(12345);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) {
      // Bias towards small tags and continuation bits.
      switch (rng() % 4) {
        case 0:
          c = static_cast<char>(rng() % 0x40);
          break;
        case 1:
          c = static_cast<char>(0x80 | (rng() % 0x80));
          break;
        default:
          c = static_cast<char>(rng());
      }
    }
    ExactBuffer buf(s);
    const bool ours = Read(buf.view()).ok;
    const bool theirs = LibprotobufAccepts(s);
    EXPECT_EQ(ours, theirs) << tw_test::Hex(s);
    accepted += ours;
  }
  EXPECT_GT(accepted, 1000) << "the generator should produce some valid inputs";
}

}  // namespace
}  // namespace tracewire::wire
