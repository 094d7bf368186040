// OTLP/JSON for the http/json protocol: the request is written by the wire
// layer's JsonWriter (the file sink's), so there is one protobuf-to-OTLP/JSON
// mapping; answers are scanned for partial_success.

#include "exporter/otlp_json.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "wire/otlp_json.h"
#include "wire/otlp_schema.h"

namespace tracewire::exporter {
namespace {

// The value after "key": in a JSON text (a number, a quoted number or a
// string), or nullopt. A plain scan: the answers are small and flat.
std::optional<std::string> FindValue(const std::string& body, const std::string& key) {
  const size_t k = body.find("\"" + key + "\"");
  if (k == std::string::npos) return std::nullopt;
  size_t p = body.find(':', k + key.size() + 2);
  if (p == std::string::npos) return std::nullopt;
  ++p;
  while (p < body.size() && (body[p] == ' ' || body[p] == '\n' || body[p] == '\t')) ++p;
  if (p >= body.size()) return std::nullopt;
  std::string v;
  if (body[p] == '"') {
    for (++p; p < body.size() && body[p] != '"'; ++p) {
      if (body[p] == '\\' && p + 1 < body.size()) {
        ++p;
        const char e = body[p];
        if (e == 'n') {
          v.push_back('\n');
        } else if (e == 't') {
          v.push_back('\t');
        } else if (e == 'u' && p + 4 < body.size()) {
          uint32_t cp = 0;
          if (absl::SimpleHexAtoi(body.substr(p + 1, 4), &cp) && cp < 0x80) {
            v.push_back(static_cast<char>(cp));
          } else {
            v.push_back('?');
          }
          p += 4;
        } else {
          v.push_back(e);
        }
      } else {
        v.push_back(body[p]);
      }
    }
    return v;
  }
  while (p < body.size() && (absl::ascii_isdigit(body[p]) || body[p] == '-'))
    v.push_back(body[p++]);
  return v;
}

}  // namespace

absl::Status OtlpRequestToJson(wire::Signal signal, const std::string& request, std::string* out) {
  wire::JsonWriter writer;
  const size_t before = out->size();
  if (!writer.Append(request, wire::schema::ExportRequestOf(signal), out)) {
    out->resize(before);
    return absl::InvalidArgumentError("the request is not a well-formed OTLP message");
  }
  return absl::OkStatus();
}

void ParseJsonPartialSuccess(const std::string& body, int64_t* rejected, std::string* message) {
  const size_t ps = body.find("\"partialSuccess\"");
  if (ps == std::string::npos) return;
  const std::string rest = body.substr(ps);
  for (const char* key : {"rejectedSpans", "rejectedDataPoints", "rejectedLogRecords"}) {
    std::optional<std::string> v = FindValue(rest, key);
    int64_t n;
    if (v.has_value() && absl::SimpleAtoi(*v, &n)) *rejected = n;
  }
  if (std::optional<std::string> m = FindValue(rest, "errorMessage")) *message = *m;
}

}  // namespace tracewire::exporter
