#include "instrumentation/grpc/semconv.h"

#include <charconv>
#include <cstdlib>

#include "common/grpc_codes.h"

namespace tracewire::instrumentation {
namespace {

// absl's string helpers take absl::string_view, which is not
// std::string_view in Debian's absl: these few are written here.
bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (!s->starts_with(prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

std::string_view StripSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> ParsePort(std::string_view s) {
  int64_t port = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || port < 0 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

// "host:port", "[v6]:port", "host", "[v6]"; "v6" alone has several colons.
std::optional<HostPort> SplitHostPort(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    HostPort hp{std::string(s.substr(1, close - 1)), std::nullopt};
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      hp.port = ParsePort(rest.substr(1));
      if (!hp.port) return std::nullopt;
    }
    return hp;
  }
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return HostPort{std::string(s), std::nullopt};
  if (s.find(':') != colon) return HostPort{std::string(s), std::nullopt};  // bare IPv6
  std::optional<int64_t> port = ParsePort(s.substr(colon + 1));
  if (!port) return std::nullopt;
  return HostPort{std::string(s.substr(0, colon)), port};
}

}  // namespace

RpcSemconv RpcSemconvFromValue(std::string_view value) {
  RpcSemconv mode = RpcSemconv::kOld;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = StripSpaces(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (item == "rpc/dup") return RpcSemconv::kBoth;
    if (item == "rpc") mode = RpcSemconv::kNew;
  }
  return mode;
}

RpcSemconv RpcSemconvFromEnv() {
  const char* v = std::getenv("OTEL_SEMCONV_STABILITY_OPT_IN");
  return RpcSemconvFromValue(v == nullptr ? "" : v);
}

RpcMethodName ParseFullMethod(std::string_view full_method) {
  std::string_view s = full_method;
  if (!ConsumePrefix(&s, "/")) return {full_method, {}};
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return {s, {}};
  return {s.substr(0, slash), s.substr(slash + 1)};
}

std::optional<HostPort> ParsePeer(std::string_view peer) {
  if (ConsumePrefix(&peer, "ipv4:") || ConsumePrefix(&peer, "ipv6:")) {
    return SplitHostPort(peer);
  }
  if (ConsumePrefix(&peer, "unix:") || ConsumePrefix(&peer, "unix-abstract:")) {
    if (peer.empty()) return std::nullopt;
    return HostPort{std::string(peer), std::nullopt};
  }
  return SplitHostPort(peer);
}

std::optional<HostPort> ParseTarget(std::string_view target) {
  // scheme:///authority-less path (dns:///host:port), or scheme:host:port.
  size_t scheme = target.find("://");
  if (scheme != std::string_view::npos) {
    std::string_view rest = target.substr(scheme + 3);
    size_t slash = rest.find('/');
    // dns://authority/host:port: the name is after the authority.
    if (slash != std::string_view::npos) rest = rest.substr(slash + 1);
    return SplitHostPort(rest);
  }
  if (ConsumePrefix(&target, "dns:")) return SplitHostPort(target);
  return ParsePeer(target);
}

std::string_view StatusCodeName(int code) { return common::GrpcCodeName(code); }

bool IsClientError(int code) { return code != 0; }

bool IsServerError(int code) {
  switch (code) {
    case 2:   // UNKNOWN
    case 4:   // DEADLINE_EXCEEDED
    case 12:  // UNIMPLEMENTED
    case 13:  // INTERNAL
    case 14:  // UNAVAILABLE
    case 15:  // DATA_LOSS
      return true;
    default:
      return false;
  }
}

}  // namespace tracewire::instrumentation
