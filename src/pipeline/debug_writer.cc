#include "pipeline/debug_writer.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace tracewire::pipeline {

absl::Status DebugWriter::Write(const Batch& batch) {
  absl::StatusOr<wire::ReadResult> r = wire::ReadExportRequest(batch.signal, batch.bytes);
  if (!r.ok()) return r.status();
  const std::string line =
      absl::StrCat("tracewired: ", wire::SignalName(batch.signal), " request: ", r->items, " ",
                   wire::SignalItemName(batch.signal), ", ", r->resources, " resources, ",
                   r->scopes, " scopes, ", batch.bytes.size(), " bytes\n");
  if (std::fputs(line.c_str(), out_) < 0) return absl::InternalError("debug sink: write failed");
  return absl::OkStatus();
}

absl::Status DebugWriter::Flush() {
  if (std::fflush(out_) != 0) return absl::InternalError("debug sink: flush failed");
  return absl::OkStatus();
}

}  // namespace tracewire::pipeline
