// W3C Baggage propagator (https://www.w3.org/TR/baggage/): the `baggage`
// header.
//
//   baggage-string = list-member 0*179( OWS "," OWS list-member )
//   list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
//   property       = key OWS "=" OWS value / key OWS
//   key            = token                       ; RFC 7230 section 3.2.6
//   value          = *baggage-octet              ; percent-encoded UTF-8
//
// Extract: a header over 8192 bytes is refused whole (the context is left
// unchanged). Members are parsed one by one; an invalid member (bad key,
// value octet, property, or malformed percent escape) is skipped and the rest
// kept. After 180 members the rest are dropped. Values are percent-decoded;
// decoded bytes that are not valid UTF-8 become U+FFFD, as the spec
// requires. Properties are kept raw (not decoded), normalized to
// "p1;p2=v" without whitespace, in Baggage::Entry::metadata. When at least one
// member is valid, the extracted baggage replaces the context's baggage.
//
// Inject: every entry whose name is a token, its value percent-encoded
// (everything outside baggage-octet, plus '%'), its metadata appended after
// ';' when it parses as properties (and dropped otherwise). Entries that
// would take the header past 180 members or 8192 bytes are left out.
//
// Stateless, so thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text.h"
#include "propagation/text_util.h"
#include "tracewire/propagation.h"

namespace tracewire {
namespace {

constexpr std::string_view kBaggageHeader = "baggage";
constexpr size_t kMaxMembers = 180;
constexpr size_t kMaxBytes = 8192;

using propagation::IsOws;
using propagation::TrimOws;

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
bool IsTchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTchar(c)) return false;
  }
  return true;
}

// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
bool IsBaggageOctet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
         (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

bool AllBaggageOctets(std::string_view s) {
  for (char c : s) {
    if (!IsBaggageOctet(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Appends `bytes` to `out`, replacing each maximal ill-formed UTF-8 subpart
// with U+FFFD (Unicode "substitution of maximal subparts").
void AppendSanitizedUtf8(std::string_view bytes, std::string& out) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  size_t i = 0;
  while (i < bytes.size()) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    if (b0 < 0x80) {
      out.push_back(static_cast<char>(b0));
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      if (b0 == 0xe0) lo = 0xa0;  // no overlong forms
      if (b0 == 0xed) hi = 0x9f;  // no surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      if (b0 == 0xf0) lo = 0x90;  // no overlong forms
      if (b0 == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
    }
    if (len == 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    size_t n = 1;
    while (n < len && i + n < bytes.size()) {
      const auto b = static_cast<unsigned char>(bytes[i + n]);
      const unsigned char min = n == 1 ? lo : 0x80, max = n == 1 ? hi : 0xbf;
      if (b < min || b > max) break;
      ++n;
    }
    if (n == len) {
      out.append(bytes.substr(i, len));
    } else {
      out.append(kReplacement);
    }
    i += n;
  }
}

// Percent-decodes a value; nullopt on a '%' not followed by two hex digits
// (a bare '%' must itself have been encoded). Invalid UTF-8 becomes U+FFFD.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string bytes;
  if (!common::PercentDecode(s, &bytes)) return std::nullopt;
  std::string out;
  out.reserve(bytes.size());
  AppendSanitizedUtf8(bytes, out);
  return out;
}

void AppendPercentEncoded(std::string_view s, std::string& out) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsBaggageOctet(c) && c != '%') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
}

// Parses ';'-separated properties (at least one) into their normalized form,
// or nullopt when one is invalid or empty.
std::optional<std::string> NormalizeProperties(std::string_view props) {
  std::string out;
  size_t start = 0;
  while (start <= props.size()) {
    size_t semi = props.find(';', start);
    if (semi == std::string_view::npos) semi = props.size();
    const std::string_view p = TrimOws(props.substr(start, semi - start));
    start = semi + 1;
    const size_t eq = p.find('=');
    const std::string_view key = TrimOws(p.substr(0, eq));
    if (!IsToken(key)) return std::nullopt;
    if (!out.empty()) out.push_back(';');
    out.append(key);
    if (eq != std::string_view::npos) {
      const std::string_view value = TrimOws(p.substr(eq + 1));
      if (!AllBaggageOctets(value)) return std::nullopt;
      out.push_back('=');
      out.append(value);
    }
  }
  return out;
}

struct Member {
  std::string key;
  std::string value;
  std::string metadata;
};

// One list-member (already trimmed, non-empty), or nullopt when invalid.
std::optional<Member> ParseMember(std::string_view m) {
  const size_t semi = m.find(';');
  const std::string_view kv = m.substr(0, semi);
  const size_t eq = kv.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const std::string_view key = TrimOws(kv.substr(0, eq));
  const std::string_view raw_value = TrimOws(kv.substr(eq + 1));
  if (!IsToken(key) || !AllBaggageOctets(raw_value)) return std::nullopt;
  std::optional<std::string> value = PercentDecode(raw_value);
  if (!value) return std::nullopt;
  if (semi == std::string_view::npos) return Member{std::string(key), std::move(*value), {}};
  std::optional<std::string> metadata = NormalizeProperties(m.substr(semi + 1));
  if (!metadata) return std::nullopt;
  return Member{std::string(key), std::move(*value), std::move(*metadata)};
}

class BaggagePropagator final : public TextMapPropagator {
 public:
  void Inject(TextMapCarrier& carrier, const Context& context) const override {
    std::string header;
    size_t members = 0;
    for (const auto& [name, entry] : context.baggage().entries()) {
      if (members == kMaxMembers) break;
      if (!IsToken(name)) continue;
      std::string member = name;
      member.push_back('=');
      AppendPercentEncoded(entry.value, member);
      if (!entry.metadata.empty()) {
        if (std::optional<std::string> props = NormalizeProperties(entry.metadata)) {
          member.push_back(';');
          member.append(*props);
        }
      }
      const size_t separator = header.empty() ? 0 : 1;
      if (header.size() + separator + member.size() > kMaxBytes) continue;
      if (separator) header.push_back(',');
      header.append(member);
      ++members;
    }
    if (!header.empty()) carrier.Set(kBaggageHeader, header);
  }

  Context Extract(const TextMapCarrier& carrier, const Context& context) const override {
    const std::optional<std::string_view> header = carrier.Get(kBaggageHeader);
    if (!header || header->size() > kMaxBytes) return context;
    Baggage baggage;
    size_t members = 0;
    size_t start = 0;
    while (start <= header->size() && members < kMaxMembers) {
      size_t comma = header->find(',', start);
      if (comma == std::string_view::npos) comma = header->size();
      const std::string_view m = TrimOws(header->substr(start, comma - start));
      start = comma + 1;
      if (m.empty()) continue;
      std::optional<Member> member = ParseMember(m);
      if (!member) continue;
      baggage = baggage.Set(member->key, member->value, member->metadata);
      ++members;
    }
    if (members == 0) return context;
    return context.WithBaggage(std::move(baggage));
  }

  std::vector<std::string> Fields() const override { return {std::string(kBaggageHeader)}; }
};

}  // namespace

std::unique_ptr<TextMapPropagator> MakeBaggagePropagator() {
  return std::make_unique<BaggagePropagator>();
}

}  // namespace tracewire
