#include "store/span_block.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "zstd.h"

namespace tracewire::store {
namespace {

constexpr uint32_t kMagic = 0x31425754;  // "TWB1"
constexpr size_t kHeader = 6 * sizeof(uint32_t);

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

uint32_t GetU32(std::string_view s, size_t at) {
  uint32_t v;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}

absl::string_view Abs(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

uint64_t TraceKey(std::string_view trace_id) {
  uint64_t hi = 0, lo = 0;
  std::memcpy(&hi, trace_id.data(), std::min<size_t>(8, trace_id.size()));
  if (trace_id.size() > 8)
    std::memcpy(&lo, trace_id.data() + 8, std::min<size_t>(8, trace_id.size() - 8));
  return Mix(lo ^ Mix(hi));
}

std::string AttributeKeyValue(std::string_view key, std::string_view value) {
  return absl::StrCat(Abs(key), "\x1f", Abs(value));
}

uint32_t BlockBuilder::Intern(std::string_view s) {
  auto it = dict_index_.find(Abs(s));
  if (it != dict_index_.end()) return it->second;
  const auto index = static_cast<uint32_t>(dict_.size());
  dict_.emplace_back(s);
  dict_index_.emplace(dict_.back(), index);
  return index;
}

void BlockBuilder::Summarize(int kind, uint64_t index, const SpanRecord& r) {
  const uint64_t id = (static_cast<uint64_t>(kind) << 60) | index;
  auto [it, fresh] = summaries_.try_emplace(id);
  BlockKey& k = it->second;
  if (fresh) {
    k.kind = kind;
    k.min_start_ns = r.start_ns;
    k.max_start_ns = r.start_ns;
    k.max_duration_ns = r.duration_ns;
  } else {
    k.min_start_ns = std::min(k.min_start_ns, r.start_ns);
    k.max_start_ns = std::max(k.max_start_ns, r.start_ns);
    k.max_duration_ns = std::max(k.max_duration_ns, r.duration_ns);
  }
  ++k.spans;
  k.errors += r.status == 2;
}

void BlockBuilder::Add(const Span& s) {
  SpanRecord r{};
  std::memcpy(r.trace_id, s.trace_id.data(), std::min<size_t>(16, s.trace_id.size()));
  std::memcpy(r.span_id, s.span_id.data(), std::min<size_t>(8, s.span_id.size()));
  r.start_ns = s.start_ns;
  r.duration_ns = s.duration_ns;
  r.data_offset = static_cast<uint32_t>(data_.size());
  r.data_size = static_cast<uint32_t>(s.raw.size());
  data_.append(s.raw);
  r.service = Intern(s.service);
  r.name = Intern(s.name);
  r.attrs_begin = static_cast<uint32_t>(attr_pairs_.size());
  r.kind = static_cast<uint8_t>(s.kind);
  r.status = static_cast<uint8_t>(s.status);
  r.has_parent = !s.parent_span_id.empty();
  if (origins_.empty() || origins_.back() != std::pair(s.resource_id, s.scope_id)) {
    origins_.emplace_back(s.resource_id, s.scope_id);
  }
  r.origin = static_cast<uint32_t>(origins_.size() - 1);
  Summarize(BlockKey::kAll, 0, r);
  Summarize(BlockKey::kService, r.service, r);
  Summarize(BlockKey::kName, r.name, r);
  for (size_t i = 0; i < s.attribute_count && i < UINT16_MAX; ++i) {
    const auto& [key, value] = s.attributes[i];
    const uint32_t k = Intern(key), v = Intern(value);
    attr_pairs_.emplace_back(k, v);
    ++r.attrs_count;
    Summarize(BlockKey::kAttribute, (uint64_t{k} << 30) | v, r);
  }
  records_.push_back(r);
  keys_.push_back(TraceKey(s.trace_id));
}

std::string BlockBuilder::Keys() const {
  return std::string(reinterpret_cast<const char*>(keys_.data()), keys_.size() * 8);
}

std::string BlockBuilder::Cols() const {
  size_t dict_bytes = 0;
  for (const std::string& s : dict_) dict_bytes += s.size();
  std::string out;
  out.reserve(kHeader + 4 * (dict_.size() + 1) + dict_bytes + records_.size() * sizeof(SpanRecord) +
              attr_pairs_.size() * 8 + origins_.size() * 16);
  for (size_t v : {size_t{kMagic}, records_.size(), dict_.size(), attr_pairs_.size(),
                   origins_.size(), dict_bytes}) {
    PutU32(&out, static_cast<uint32_t>(v));
  }
  uint32_t offset = 0;
  for (const std::string& s : dict_) {
    PutU32(&out, offset);
    offset += static_cast<uint32_t>(s.size());
  }
  PutU32(&out, offset);
  for (const std::string& s : dict_) out.append(s);
  out.append(reinterpret_cast<const char*>(records_.data()), records_.size() * sizeof(SpanRecord));
  for (const auto& [k, v] : attr_pairs_) {
    PutU32(&out, k);
    PutU32(&out, v);
  }
  out.append(reinterpret_cast<const char*>(origins_.data()), origins_.size() * 16);
  return out;
}

std::vector<BlockKey> BlockBuilder::Summaries() const {
  constexpr uint64_t kMask = (uint64_t{1} << 30) - 1;
  std::vector<BlockKey> out;
  out.reserve(summaries_.size());
  for (const auto& [id, k] : summaries_) {
    BlockKey& key = out.emplace_back(k);
    if (k.kind == BlockKey::kAttribute) {
      key.value = AttributeKeyValue(dict_[(id >> 30) & kMask], dict_[id & kMask]);
    } else if (k.kind != BlockKey::kAll) {
      key.value = dict_[id & kMask];
    }
  }
  return out;
}

void BlockBuilder::Clear() {
  records_.clear();
  keys_.clear();
  attr_pairs_.clear();
  origins_.clear();
  dict_.clear();
  dict_index_.clear();
  data_.clear();
  summaries_.clear();
}

std::string CompressData(std::string_view raw) {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(),
                                                                       ZSTD_freeCCtx);
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const size_t n = ZSTD_compressCCtx(cctx.get(), out.data(), out.size(), raw.data(), raw.size(), 1);
  if (ZSTD_isError(n)) return std::string();  // only on allocation failure
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> DecompressData(std::string_view stored) {
  constexpr unsigned long long kMax = 1ull << 30;
  const unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMax) {
    return absl::DataLossError("corrupt span block data: not a zstd frame of known size");
  }
  // The output grows as it is produced, not to the size the frame claims:
  // a damaged header must not make a reader allocate a gigabyte.
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(),
                                                                       ZSTD_freeDCtx);
  ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_only);
  std::string out(std::min<unsigned long long>(size, 8 * stored.size() + 4096), '\0');
  ZSTD_inBuffer in{stored.data(), stored.size(), 0};
  size_t produced = 0;
  for (;;) {
    if (produced == out.size() && out.size() < size) {
      out.resize(std::min<unsigned long long>(size, 2 * out.size()));
    }
    ZSTD_outBuffer o{out.data() + produced, out.size() - produced, 0};
    const size_t ret = ZSTD_decompressStream(dctx.get(), &o, &in);
    produced += o.pos;
    if (ZSTD_isError(ret)) {
      return absl::DataLossError(absl::StrCat("corrupt span block data: ", ZSTD_getErrorName(ret)));
    }
    if (ret == 0) break;  // the frame is complete
    if (o.pos == 0 && in.pos == in.size) {
      return absl::DataLossError("corrupt span block data: truncated");
    }
    if (produced == out.size() && out.size() == size) {
      return absl::DataLossError("corrupt span block data: longer than its header says");
    }
  }
  if (produced != size) return absl::DataLossError("corrupt span block data: short");
  return out;
}

absl::Status BlockView::Parse(std::string_view cols) {
  *this = BlockView();
  auto corrupt = [](std::string_view what) {
    return absl::DataLossError(absl::StrCat("corrupt span block: ", Abs(what)));
  };
  if (cols.size() < kHeader) return corrupt("too short");
  if (GetU32(cols, 0) != kMagic) return corrupt("unknown format");
  count_ = GetU32(cols, 4);
  dict_count_ = GetU32(cols, 8);
  attr_count_ = GetU32(cols, 12);
  origin_count_ = GetU32(cols, 16);
  const size_t dict_bytes = GetU32(cols, 20);
  dict_offsets_ = kHeader;
  dict_bytes_ = dict_offsets_ + 4 * (dict_count_ + 1);
  records_ = dict_bytes_ + dict_bytes;
  attrs_ = records_ + count_ * sizeof(SpanRecord);
  origins_ = attrs_ + attr_count_ * 8;
  // Each count is below 2^32, so these sums cannot wrap.
  if (origins_ + origin_count_ * 16 != cols.size()) return corrupt("sizes do not add up");
  cols_ = cols;
  return absl::OkStatus();
}

SpanRecord BlockView::record(size_t i) const {
  SpanRecord r{};
  if (i < count_) std::memcpy(&r, cols_.data() + records_ + i * sizeof(SpanRecord), sizeof r);
  // A damaged record names no attribute pairs beyond the block's.
  r.attrs_count =
      r.attrs_begin > attr_count_
          ? 0
          : static_cast<uint16_t>(std::min<size_t>(r.attrs_count, attr_count_ - r.attrs_begin));
  return r;
}

std::string_view BlockView::str(uint32_t index) const {
  if (index >= dict_count_) return {};
  const uint32_t begin = GetU32(cols_, dict_offsets_ + 4 * index);
  const uint32_t end = GetU32(cols_, dict_offsets_ + 4 * (index + 1));
  if (begin > end || dict_bytes_ + end > records_) return {};
  return cols_.substr(dict_bytes_ + begin, end - begin);
}

std::pair<uint32_t, uint32_t> BlockView::attribute(uint32_t i) const {
  if (i >= attr_count_) return {UINT32_MAX, UINT32_MAX};
  return {GetU32(cols_, attrs_ + 8 * i), GetU32(cols_, attrs_ + 8 * i + 4)};
}

std::pair<int64_t, int64_t> BlockView::origin(uint32_t i) const {
  std::pair<int64_t, int64_t> o{0, 0};
  if (i < origin_count_) {
    std::memcpy(&o.first, cols_.data() + origins_ + 16 * i, 8);
    std::memcpy(&o.second, cols_.data() + origins_ + 16 * i + 8, 8);
  }
  return o;
}

absl::Status StoredBlock::Load(std::string_view stored_cols,
                               std::optional<std::string_view> stored_data) {
  cols.assign(stored_cols);
  data.clear();
  if (stored_data.has_value()) {
    absl::StatusOr<std::string> raw = DecompressData(*stored_data);
    if (!raw.ok()) return raw.status();
    data = std::move(*raw);
  }
  return view.Parse(cols);
}

std::string_view BlockView::Raw(const SpanRecord& r, std::string_view data) {
  if (r.data_offset > data.size() || r.data_size > data.size() - r.data_offset) return {};
  return data.substr(r.data_offset, r.data_size);
}

}  // namespace tracewire::store
