#include "common/grpc_codes.h"

namespace tracewire::common {
namespace {

constexpr std::string_view kNames[kGrpcCodeCount] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

}  // namespace

std::string_view GrpcCodeName(int code) {
  if (code < 0 || code >= kGrpcCodeCount) return "UNKNOWN";
  return kNames[code];
}

int GrpcCodeNumber(std::string_view name) {
  for (int code = 0; code < kGrpcCodeCount; ++code) {
    if (name == kNames[code]) return code;
  }
  return 2;
}

}  // namespace tracewire::common
