#include "wire/otlp_validate.h"

#include "wire/utf8.h"

namespace tracewire::wire {
namespace {

// How deep groups nest inside a group body (whose structure ProtoReader has
// checked already): 0 when it holds no groups.
int GroupNesting(std::string_view body) {
  int deepest = 0;
  ProtoReader r(body);
  Field f;
  while (r.Next(&f)) {
    if (f.type == WireType::kStartGroup) {
      const int n = 1 + GroupNesting(f.bytes);
      if (n > deepest) deepest = n;
    }
  }
  return deepest;
}

// libprotobuf counts groups (always unknown fields in OTLP) against the same
// recursion limit as nested messages.
bool GroupDepthOk(const Field& f, int depth) {
  return depth + 1 + GroupNesting(f.bytes) <= kMaxNestingDepth;
}

}  // namespace

bool ValidateField(const MessageDesc& desc, const Field& f, int depth) {
  if (f.type == WireType::kStartGroup) return GroupDepthOk(f, depth);
  const FieldDesc* fd = desc.Find(f.number);
  if (fd == nullptr || f.type != WireType::kLen) return true;  // Unknown or scalar: read already.
  switch (fd->kind) {
    case FieldKind::kString:
      return IsValidUtf8(f.bytes);
    case FieldKind::kMessage:
      return ValidateMessage(f.bytes, *fd->message, depth + 1);
    case FieldKind::kBytes:
    case FieldKind::kId:
      return true;
    default:
      // A packed run of scalars: check that it splits into whole values.
      if (!fd->repeated) return true;  // Mismatched wire type: an unknown field.
      switch (ExpectedWireType(fd->kind)) {
        case WireType::kFixed64:
          return f.bytes.size() % 8 == 0;
        case WireType::kFixed32:
          return f.bytes.size() % 4 == 0;
        default:
          return ForEachPackedVarint(f.bytes, [](uint64_t) {});
      }
  }
}

namespace {

// Hand-written twins of ValidateMessage for the two hottest messages (a
// standard span holds ten KeyValues): same rules, no table lookups.
bool ValidateAnyValue(std::string_view bytes, int depth);

bool ValidateKeyValue(std::string_view bytes, int depth) {
  ProtoReader r(bytes);
  Field f;
  while (r.Next(&f)) {
    if (f.type != WireType::kLen) {
      if (f.type == WireType::kStartGroup && !GroupDepthOk(f, depth)) return false;
      continue;
    }
    if (f.number == 1) {
      if (!IsValidUtf8(f.bytes)) return false;
    } else if (f.number == 2) {
      if (!ValidateAnyValue(f.bytes, depth + 1)) return false;
    }
  }
  return r.ok();
}

bool ValidateAnyValue(std::string_view bytes, int depth) {
  if (depth > kMaxNestingDepth) return false;
  ProtoReader r(bytes);
  Field f;
  while (r.Next(&f)) {
    if (f.type != WireType::kLen) {
      if (f.type == WireType::kStartGroup && !GroupDepthOk(f, depth)) return false;
      continue;
    }
    switch (f.number) {
      case 1:  // string_value
        if (!IsValidUtf8(f.bytes)) return false;
        break;
      case 5:  // array_value
      case 6:  // kvlist_value
        if (!ValidateMessage(f.bytes, f.number == 5 ? schema::kArrayValue : schema::kKeyValueList,
                             depth + 1)) {
          return false;
        }
        break;
      default:
        break;
    }
  }
  return r.ok();
}

}  // namespace

bool ValidateMessage(std::string_view bytes, const MessageDesc& desc, int depth) {
  if (depth > kMaxNestingDepth) return false;
  if (&desc == &schema::kKeyValue) return ValidateKeyValue(bytes, depth);
  if (&desc == &schema::kAnyValue) return ValidateAnyValue(bytes, depth);
  ProtoReader r(bytes);
  Field f;
  while (r.Next(&f)) {
    if (!ValidateField(desc, f, depth)) return false;
  }
  return r.ok();
}

}  // namespace tracewire::wire
