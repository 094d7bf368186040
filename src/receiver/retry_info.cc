#include "receiver/retry_info.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace tracewire::receiver {

namespace {
constexpr char kRetryInfoType[] = "type.googleapis.com/google.rpc.RetryInfo";
}

::grpc::Status StatusWithRetryInfo(::grpc::StatusCode code, const std::string& message,
                                   absl::Duration retry_delay) {
  google::rpc::RetryInfo info;
  const int64_t ns = absl::ToInt64Nanoseconds(retry_delay);
  info.mutable_retry_delay()->set_seconds(ns / 1000000000);
  info.mutable_retry_delay()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  google::rpc::Status st;
  st.set_code(static_cast<int>(code));
  st.set_message(message);
  auto* any = st.add_details();
  any->set_type_url(kRetryInfoType);
  info.SerializeToString(any->mutable_value());
  return ::grpc::Status(code, message, st.SerializeAsString());
}

std::optional<absl::Duration> RetryDelayOf(const ::grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status st;
  if (!st.ParseFromString(status.error_details())) return std::nullopt;
  for (const auto& any : st.details()) {
    if (any.type_url() != kRetryInfoType) continue;
    google::rpc::RetryInfo info;
    if (!info.ParseFromString(any.value())) return std::nullopt;
    return absl::Seconds(info.retry_delay().seconds()) +
           absl::Nanoseconds(info.retry_delay().nanos());
  }
  return std::nullopt;
}

}  // namespace tracewire::receiver
