#include "wire/otlp_json.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "wire/json_values.h"
#include "wire/otlp_validate.h"

namespace tracewire::wire {
namespace {

void AppendHex(std::string_view b, std::string* out) {
  AppendJsonValue(out, JsonHexMax(b.size()), [b](char* p) { return WriteJsonHex(b, p); });
}

void AppendBase64(std::string_view b, std::string* out) {
  AppendJsonValue(out, JsonBase64Max(b.size()), [b](char* p) { return WriteJsonBase64(b, p); });
}

template <typename T>
void AppendInt(T v, bool quoted, std::string* out) {
  AppendJsonValue(out, kJsonIntMax, [v, quoted](char* p) { return WriteJsonInt(v, quoted, p); });
}

void AppendDouble(double d, std::string* out) {
  AppendJsonValue(out, kJsonDoubleMax, [d](char* p) { return WriteJsonDouble(d, p); });
}

double AsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// True for kinds that libprotobuf stores in 32 bits: of a varint, only the
// low 32 bits count.
bool Is32Bit(FieldKind kind) {
  return kind == FieldKind::kInt32 || kind == FieldKind::kUint32 || kind == FieldKind::kSint32 ||
         kind == FieldKind::kEnum || kind == FieldKind::kFixed32;
}

// True when a singular field without presence holds its default value.
bool IsDefault(const FieldDesc& fd, const Field& f) {
  if (f.type == WireType::kLen) return f.bytes.empty();
  if (Is32Bit(fd.kind)) return static_cast<uint32_t>(f.value) == 0;
  return f.value == 0;  // 0, false, 0.0 (positive zero) and enum 0.
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static const char kDigits[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kDigits[c >> 4]);
        out->push_back(kDigits[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

bool JsonWriter::Append(std::string_view bytes, const MessageDesc& desc, std::string* out) {
  return AppendMessage(bytes, desc, 0, out);
}

bool JsonWriter::AppendValue(const FieldDesc& fd, const Field& f, int depth, std::string* out) {
  switch (fd.kind) {
    case FieldKind::kString:
      AppendJsonString(f.bytes, out);
      return true;
    case FieldKind::kBytes:
      AppendBase64(f.bytes, out);
      return true;
    case FieldKind::kId:
      AppendHex(f.bytes, out);
      return true;
    case FieldKind::kMessage:
      return AppendMessage(f.bytes, *fd.message, depth + 1, out);
    case FieldKind::kBool:
      out->append(f.value ? "true" : "false");
      return true;
    case FieldKind::kInt32:
    case FieldKind::kEnum:
      AppendInt(static_cast<int32_t>(f.value), false, out);
      return true;
    case FieldKind::kInt64:
    case FieldKind::kSfixed64:
      AppendInt(static_cast<int64_t>(f.value), true, out);
      return true;
    case FieldKind::kUint32:
    case FieldKind::kFixed32:
      AppendInt(static_cast<uint32_t>(f.value), false, out);
      return true;
    case FieldKind::kUint64:
    case FieldKind::kFixed64:
      AppendInt(f.value, true, out);
      return true;
    case FieldKind::kSint32: {
      const uint32_t n = static_cast<uint32_t>(f.value);  // libprotobuf decodes the low 32 bits
      AppendInt(static_cast<int32_t>((n >> 1) ^ (~(n & 1) + 1)), false, out);
      return true;
    }
    case FieldKind::kSint64:
      AppendInt(ZigZagDecode64(f.value), true, out);
      return true;
    case FieldKind::kDouble:
      AppendDouble(AsDouble(f.value), out);
      return true;
  }
  return false;
}

bool JsonWriter::AppendMessage(std::string_view bytes, const MessageDesc& desc, int depth,
                               std::string* out) {
  if (depth > kMaxNestingDepth) return false;
  if (scratch_.size() <= static_cast<size_t>(depth)) scratch_.resize(depth + 1);
  // Collect the known fields with their expected wire types; expand packed runs.
  {
    std::vector<Field>& fields = scratch_[depth];
    fields.clear();
    ProtoReader r(bytes);
    Field f;
    while (r.Next(&f)) {
      const FieldDesc* fd = desc.Find(f.number);
      if (fd == nullptr) continue;
      const WireType want = ExpectedWireType(fd->kind);
      if (f.type == want) {
        fields.push_back(f);
      } else if (f.type == WireType::kLen && fd->repeated && IsPackable(fd->kind)) {
        Field e = f;
        e.type = want;
        if (want == WireType::kVarint) {
          if (!ForEachPackedVarint(f.bytes, [&](uint64_t v) {
                e.value = v;
                fields.push_back(e);
              })) {
            return false;
          }
        } else {
          const size_t w = want == WireType::kFixed64 ? 8 : 4;
          if (f.bytes.size() % w != 0) return false;
          for (size_t i = 0; i < f.bytes.size(); i += w) {
            e.value = 0;
            std::memcpy(&e.value, f.bytes.data() + i, w);
            fields.push_back(e);
          }
        }
      }
    }
    if (!r.ok()) return false;
  }
  out->push_back('{');
  bool first = true;
  for (size_t k = 0; k < desc.field_count; ++k) {
    const FieldDesc& fd = desc.fields[k];
    // scratch_[depth] is indexed afresh each time: nested calls may grow scratch_.
    if (fd.repeated) {
      bool open = false;
      for (size_t i = 0; i < scratch_[depth].size(); ++i) {
        const Field f = scratch_[depth][i];  // Copy: recursion may grow scratch_.
        if (f.number != fd.number) continue;
        if (!open) {
          if (!first) out->push_back(',');
          first = false;
          out->push_back('"');
          out->append(fd.json_name);
          out->append("\":[");
          open = true;
        } else {
          out->push_back(',');
        }
        if (!AppendValue(fd, f, depth, out)) return false;
      }
      if (open) out->push_back(']');
      continue;
    }
    // As libprotobuf parses: the last occurrence of a scalar wins; the
    // occurrences of a message merge (their bytes concatenated parse as the
    // merged message); setting another member of a oneof clears this one.
    const std::vector<Field>& fields = scratch_[depth];
    const Field* last = nullptr;
    size_t run_start = 0;  // the first occurrence that still counts
    size_t occurrences = 0;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].number == fd.number) {
        if (occurrences++ == 0) run_start = i;
        last = &fields[i];
      } else if (fd.oneof != 0) {
        const FieldDesc* other = desc.Find(fields[i].number);
        if (other != nullptr && other->oneof == fd.oneof) {
          last = nullptr;
          occurrences = 0;
        }
      }
    }
    if (last == nullptr || (!fd.has_presence && IsDefault(fd, *last))) continue;
    Field f = *last;
    std::string merged;
    if (fd.kind == FieldKind::kMessage && occurrences > 1) {
      for (size_t i = run_start; i < fields.size(); ++i) {
        if (fields[i].number == fd.number) merged.append(fields[i].bytes);
      }
      f.bytes = merged;
    }
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    out->append(fd.json_name);
    out->append("\":");
    if (!AppendValue(fd, f, depth, out)) return false;
  }
  out->push_back('}');
  return true;
}

}  // namespace tracewire::wire
