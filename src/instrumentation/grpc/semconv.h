#pragma once
// The RPC semantic conventions the gRPC instrumentation follows, shared by the
// tracing half and (later) the rpc metrics: which attribute set
// (OTEL_SEMCONV_STABILITY_OPT_IN), the full-method and peer-string parsing,
// the status-code names and which codes are errors on each side.
//
// Thread safety: free functions over their arguments; RpcSemconvFromEnv reads
// the environment (getenv) and is safe while no thread sets variables.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tracewire::instrumentation {

enum class RpcSemconv : uint8_t {
  kOld,   // rpc.system, rpc.service, rpc.method ("Method"), rpc.grpc.status_code
  kNew,   // rpc.system.name, rpc.method ("package.Service/Method"),
          // rpc.response.status_code ("NOT_FOUND")
  kBoth,  // rpc/dup: both sets; rpc.method takes the newer, fully qualified value
};

// From an OTEL_SEMCONV_STABILITY_OPT_IN value: a comma-separated list in which
// "rpc/dup" gives kBoth (it wins over "rpc"), "rpc" gives kNew; else kOld.
RpcSemconv RpcSemconvFromValue(std::string_view value);
// The same from the environment variable.
RpcSemconv RpcSemconvFromEnv();
inline bool EmitsOld(RpcSemconv s) { return s != RpcSemconv::kNew; }
inline bool EmitsNew(RpcSemconv s) { return s != RpcSemconv::kOld; }

// "/package.Service/Method" -> service "package.Service", method "Method".
// A name without the leading slash or without a method is kept whole as the
// service, with an empty method.
struct RpcMethodName {
  std::string_view service;
  std::string_view method;
};
RpcMethodName ParseFullMethod(std::string_view full_method);

// gRPC peer and target strings: "ipv4:127.0.0.1:1234", "ipv6:[::1]:1234",
// "unix:/path", "dns:///host:443", "host:443", "[::1]:443". The port is
// unset when there is none (unix sockets, a bare host).
struct HostPort {
  std::string host;
  std::optional<int64_t> port;
};
std::optional<HostPort> ParsePeer(std::string_view peer);
std::optional<HostPort> ParseTarget(std::string_view target);

// The canonical name of a grpc::StatusCode ("OK", "DEADLINE_EXCEEDED", ...);
// "UNKNOWN" for a value out of range (a received code is never trusted).
std::string_view StatusCodeName(int code);
// Whether a call that ended with `code` is an error span: every non-OK code
// on the client; on the server only UNKNOWN, DEADLINE_EXCEEDED,
// UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS.
bool IsClientError(int code);
bool IsServerError(int code);

}  // namespace tracewire::instrumentation
