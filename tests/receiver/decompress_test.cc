#include "receiver/decompress.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace tracewire::receiver {
namespace {

std::string Gzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(Inflate, WithinTheLimitGivesTheData) {
  const std::string data(5000, 'x');
  std::string out;
  ASSERT_TRUE(Inflate(Gzip(data), 5000, &out).ok());
  EXPECT_EQ(out, data);
}

// Found by inflate_fuzzer: a refused stream left up to max_out + 1 bytes of
// partial output behind. Refusals now leave nothing.
TEST(Inflate, OverTheLimitIsResourceExhaustedWithNothingLeft) {
  std::string out = "stale";
  absl::Status st = Inflate(Gzip(std::string(5000, 'x')), 4999, &out);
  EXPECT_TRUE(absl::IsResourceExhausted(st)) << st;
  EXPECT_TRUE(out.empty());
}

TEST(Inflate, ATruncatedStreamIsInvalidArgumentWithNothingLeft) {
  const std::string packed = Gzip(std::string(5000, 'y'));
  std::string out;
  absl::Status st = Inflate(packed.substr(0, packed.size() / 2), 10000, &out);
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace tracewire::receiver
