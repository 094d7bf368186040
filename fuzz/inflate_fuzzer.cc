// gzip, deflate (zlib) and zstd decompression with the size limit
// (receiver/decompress.h).
// Input: a limit byte, then bytes used twice: as a compressed stream, and as
// data compressed here with zlib and gzip framing.
//
// Invariants (Inflate and ZstdDecompress alike): never more than the limit (ResourceExhausted
// instead) and never crashes on any stream; the compressed copy of the data
// inflates back to exactly the data when it fits the limit, and is refused
// with ResourceExhausted when it does not.

#include <zlib.h>
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "receiver/decompress.h"

using tracewire::fuzz::FuzzCheck;
namespace receiver = tracewire::receiver;

namespace {

// window_bits 15: zlib framing; 31: gzip.
std::string Compress(std::string_view in, int window_bits) {
  z_stream z{};
  FuzzCheck(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8,
                         Z_DEFAULT_STRATEGY) == Z_OK,
            "deflateInit2");
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  FuzzCheck(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int64_t limit = static_cast<int64_t>(data[0]) * 64;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string out;
  absl::Status s = receiver::Inflate(rest, limit, &out);
  FuzzCheck(static_cast<int64_t>(out.size()) <= limit, "output within the limit");
  FuzzCheck(s.ok() || absl::IsInvalidArgument(s) || absl::IsResourceExhausted(s),
            "InvalidArgument or ResourceExhausted");

  for (int window_bits : {15, 31}) {
    const std::string packed = Compress(rest, window_bits);
    FuzzCheck(receiver::LooksCompressed(packed), "a compressed stream looks compressed");
    FuzzCheck(receiver::IsGzip(packed) == (window_bits == 31), "gzip magic");
    std::string back;
    absl::Status r = receiver::Inflate(packed, limit, &back);
    if (static_cast<int64_t>(rest.size()) <= limit) {
      FuzzCheck(r.ok(), "a stream within the limit inflates");
      FuzzCheck(back == rest, "inflates to the data");
    } else {
      FuzzCheck(absl::IsResourceExhausted(r), "over the limit is ResourceExhausted");
      FuzzCheck(static_cast<int64_t>(back.size()) <= limit, "refused output within the limit");
    }
  }
  std::string zout;
  absl::Status zs = receiver::ZstdDecompress(rest, limit, &zout);
  FuzzCheck(static_cast<int64_t>(zout.size()) <= limit, "zstd output within the limit");
  FuzzCheck(zs.ok() || absl::IsInvalidArgument(zs) || absl::IsResourceExhausted(zs),
            "zstd: InvalidArgument or ResourceExhausted");
  std::string zpacked(ZSTD_compressBound(rest.size()), '\0');
  const size_t zn = ZSTD_compress(zpacked.data(), zpacked.size(), rest.data(), rest.size(), 1);
  FuzzCheck(!ZSTD_isError(zn), "ZSTD_compress");
  zpacked.resize(zn);
  std::string zback;
  absl::Status zr = receiver::ZstdDecompress(zpacked, limit, &zback);
  if (static_cast<int64_t>(rest.size()) <= limit) {
    FuzzCheck(zr.ok(), "a zstd frame within the limit decompresses");
    FuzzCheck(zback == rest, "decompresses to the data");
  } else {
    FuzzCheck(absl::IsResourceExhausted(zr), "zstd over the limit is ResourceExhausted");
  }
  return 0;
}
