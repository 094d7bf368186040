#include "receiver/otlp_json.h"

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "nlohmann/json.hpp"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace tracewire::receiver {
namespace {

namespace otlp_trace = ::opentelemetry::proto::collector::trace::v1;
namespace otlp_metrics = ::opentelemetry::proto::collector::metrics::v1;
namespace otlp_logs = ::opentelemetry::proto::collector::logs::v1;

bool IsIdKey(const std::string& k) {
  return k == "traceId" || k == "spanId" || k == "parentSpanId" || k == "trace_id" ||
         k == "span_id" || k == "parent_span_id";
}

// Rewrites the hex ids under `j` as base64, in place.
absl::Status HexIdsToBase64(nlohmann::json& j) {
  if (j.is_array()) {
    for (auto& e : j) {
      absl::Status st = HexIdsToBase64(e);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }
  if (!j.is_object()) return absl::OkStatus();
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (IsIdKey(it.key()) && it.value().is_string()) {
      const std::string hex = it.value().get<std::string>();
      if (hex.size() % 2 != 0 || !std::all_of(hex.begin(), hex.end(), [](char c) {
            return absl::ascii_isxdigit(static_cast<unsigned char>(c));
          })) {
        return absl::InvalidArgumentError(
            absl::StrCat(it.key(), " \"", hex.substr(0, 40), "\" is not a hex string"));
      }
      it.value() = absl::Base64Escape(absl::HexStringToBytes(hex));
    } else {
      absl::Status st = HexIdsToBase64(it.value());
      if (!st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

std::unique_ptr<google::protobuf::Message> NewRequest(wire::Signal signal) {
  switch (signal) {
    case wire::Signal::kTraces:
      return std::make_unique<otlp_trace::ExportTraceServiceRequest>();
    case wire::Signal::kMetrics:
      return std::make_unique<otlp_metrics::ExportMetricsServiceRequest>();
    case wire::Signal::kLogs:
      return std::make_unique<otlp_logs::ExportLogsServiceRequest>();
  }
  return nullptr;
}

std::unique_ptr<google::protobuf::Message> NewResponse(wire::Signal signal) {
  switch (signal) {
    case wire::Signal::kTraces:
      return std::make_unique<otlp_trace::ExportTraceServiceResponse>();
    case wire::Signal::kMetrics:
      return std::make_unique<otlp_metrics::ExportMetricsServiceResponse>();
    case wire::Signal::kLogs:
      return std::make_unique<otlp_logs::ExportLogsServiceResponse>();
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::string> OtlpJsonToProtobuf(wire::Signal signal, std::string_view json) {
  nlohmann::json tree = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                              /*allow_exceptions=*/false);
  if (tree.is_discarded()) return absl::InvalidArgumentError("the body is not valid JSON");
  if (!tree.is_object()) return absl::InvalidArgumentError("the body is not a JSON object");
  absl::Status st = HexIdsToBase64(tree);
  if (!st.ok()) return st;
  std::unique_ptr<google::protobuf::Message> msg = NewRequest(signal);
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;  // the OTLP specification's rule for receivers
  const auto parsed = google::protobuf::util::JsonStringToMessage(tree.dump(), msg.get(), opts);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the body is not an OTLP/JSON request: ", parsed.message().as_string()));
  }
  std::string out;
  if (!msg->SerializeToString(&out)) return absl::InternalError("cannot serialize the request");
  return out;
}

std::string ExportResponseToJson(wire::Signal signal, const std::string& response) {
  if (response.empty()) return "{}";
  std::unique_ptr<google::protobuf::Message> msg = NewResponse(signal);
  std::string out;
  if (!msg->ParseFromString(response) ||
      !google::protobuf::util::MessageToJsonString(*msg, &out).ok()) {
    return "{}";
  }
  return out;
}

std::string RpcStatusJson(const absl::Status& status) {
  google::rpc::Status s;
  s.set_code(static_cast<int>(status.code()));
  s.set_message(std::string(status.message()));
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(s, &out);
  return out;
}

}  // namespace tracewire::receiver
