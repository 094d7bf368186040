#include "receiver/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace tracewire::receiver {

bool IsGzip(std::string_view b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f &&
         static_cast<unsigned char>(b[1]) == 0x8b;
}

bool LooksCompressed(std::string_view b) {
  if (b.size() < 2) return false;
  const auto c0 = static_cast<unsigned char>(b[0]);
  const auto c1 = static_cast<unsigned char>(b[1]);
  if (c0 == 0x1f && c1 == 0x8b) return true;
  // zlib: CM=8, CINFO<=7, (CMF*256+FLG) % 31 == 0.
  return (c0 & 0x0f) == 8 && (c0 >> 4) <= 7 && ((c0 << 8) | c1) % 31 == 0;
}

absl::Status Inflate(std::string_view in, int64_t max_out, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {  // 15+32: zlib or gzip header, detected.
    return absl::InternalError("inflateInit2 failed");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out->clear();
  size_t cap = std::min<size_t>(std::max<size_t>(in.size() * 4, 4096), max_out + 1);
  out->resize(cap);
  int ret;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out->size() - zs.total_out);
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) break;
    if (ret != Z_OK && ret != Z_BUF_ERROR) break;
    if (static_cast<int64_t>(zs.total_out) > max_out) break;
    if (zs.avail_out == 0) {
      if (static_cast<int64_t>(out->size()) > max_out) break;
      out->resize(std::min<size_t>(out->size() * 2, max_out + 1));
    } else if (zs.avail_in == 0) {
      break;  // Input ended before the stream did.
    }
  }
  const int64_t total = static_cast<int64_t>(zs.total_out);
  inflateEnd(&zs);
  if (total > max_out || ret != Z_STREAM_END) out->clear();  // nothing partial
  if (total > max_out) {
    return absl::ResourceExhaustedError(
        absl::StrCat("decompressed request is larger than the limit of ", max_out, " bytes"));
  }
  if (ret != Z_STREAM_END) {
    return absl::InvalidArgumentError("request is not a complete compressed message");
  }
  out->resize(total);
  return absl::OkStatus();
}

absl::Status ZstdDecompress(std::string_view in, int64_t max_out, std::string* out) {
  out->clear();
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (dctx == nullptr) return absl::InternalError("ZSTD_createDCtx failed");
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t cap = std::min<size_t>(std::max<size_t>(in.size() * 4, 4096), max_out + 1);
  out->resize(cap);
  size_t produced = 0;
  size_t ret = 1;  // not at a frame's end
  while (input.pos < input.size || ret != 0) {
    if (produced == out->size()) {
      if (static_cast<int64_t>(out->size()) > max_out) break;
      out->resize(std::min<size_t>(out->size() * 2, max_out + 1));
    }
    ZSTD_outBuffer output{out->data() + produced, out->size() - produced, 0};
    const size_t before_in = input.pos;
    ret = ZSTD_decompressStream(dctx.get(), &output, &input);
    if (ZSTD_isError(ret)) {
      out->clear();
      return absl::InvalidArgumentError(
          absl::StrCat("request is not a valid zstd stream: ", ZSTD_getErrorName(ret)));
    }
    produced += output.pos;
    if (static_cast<int64_t>(produced) > max_out) break;
    if (output.pos == 0 && input.pos == before_in && produced < out->size()) break;  // stuck
    if (input.pos == input.size && ret != 0 && output.pos < output.size) break;      // truncated
  }
  if (static_cast<int64_t>(produced) > max_out) {
    out->clear();
    return absl::ResourceExhaustedError(
        absl::StrCat("decompressed request is larger than the limit of ", max_out, " bytes"));
  }
  if (ret != 0) {
    out->clear();
    return absl::InvalidArgumentError("request is not a complete zstd message");
  }
  out->resize(produced);
  return absl::OkStatus();
}

}  // namespace tracewire::receiver
