#include "sdk/console_text.h"

#include <variant>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tracewire::sdk {

std::string HexText(const uint8_t* p, size_t n) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(p), n));
}

std::string ValueText(const AnyValue& v) {
  struct V {
    std::string operator()(std::monostate) const { return "null"; }
    std::string operator()(const std::string& s) const { return absl::StrCat("\"", s, "\""); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return absl::StrCat(i); }
    std::string operator()(double d) const { return absl::StrFormat("%g", d); }
    std::string operator()(const AnyValue::Array& a) const {
      std::string s = "[";
      for (size_t i = 0; i < a.size(); ++i) absl::StrAppend(&s, i ? ", " : "", ValueText(a[i]));
      return s + "]";
    }
    std::string operator()(const AnyValue::KvList& kv) const {
      std::string s = "{";
      for (size_t i = 0; i < kv.size(); ++i) {
        absl::StrAppend(&s, i ? ", " : "", kv[i].key, ": ", ValueText(kv[i].value));
      }
      return s + "}";
    }
    std::string operator()(const Bytes& b) const {
      return absl::StrCat("0x",
                          HexText(reinterpret_cast<const uint8_t*>(b.data.data()), b.data.size()));
    }
  };
  return std::visit(V{}, v.value);
}

}  // namespace tracewire::sdk
