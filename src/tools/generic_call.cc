#include "tools/generic_call.h"

#include "absl/synchronization/notification.h"

namespace tracewire::tools {

CallResult GenericCaller::Call(::grpc::ClientContext* context, const std::string& method,
                               const std::string& request) {
  ::grpc::Slice slice(request);
  ::grpc::ByteBuffer req(&slice, 1);
  ::grpc::ByteBuffer resp;
  CallResult result;
  absl::Notification done;
  stub_.UnaryCall(context, method, ::grpc::StubOptions(), &req, &resp,
                  [&](::grpc::Status st) {
                    result.status = std::move(st);
                    done.Notify();
                  });
  done.WaitForNotification();
  if (result.status.ok()) {
    ::grpc::Slice out;
    if (resp.Valid() && resp.DumpToSingleSlice(&out).ok()) {
      result.response.assign(reinterpret_cast<const char*>(out.begin()), out.size());
    }
  }
  return result;
}

}  // namespace tracewire::tools
