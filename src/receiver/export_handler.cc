#include "receiver/export_handler.h"

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "receiver/decompress.h"
#include "wire/otlp_reader.h"
#include "wire/proto_writer.h"

namespace tracewire::receiver {

std::string PartialSuccessResponse(int64_t rejected, const std::string& message) {
  if (rejected == 0 && message.empty()) return {};
  std::string ps;
  if (rejected != 0) {
    wire::AppendVarint(&ps, (1 << 3) | 0);
    wire::AppendVarint(&ps, static_cast<uint64_t>(rejected));
  }
  if (!message.empty()) wire::AppendLenField(&ps, 2, message);
  std::string out;
  wire::AppendLenField(&out, 1, ps);
  return out;
}

namespace {

// Counts an accepted request and builds its answer.
ExportAnswer Accept(common::SignalCounters& c, int64_t accepted, int64_t rejected,
                    const std::string& error_message) {
  common::SignalCounters::Add(c.accepted_requests, 1);
  common::SignalCounters::Add(c.accepted_items, accepted);
  ExportAnswer a;
  if (rejected > 0 || !error_message.empty()) {
    common::SignalCounters::Add(c.partial_requests, 1);
    common::SignalCounters::Add(c.rejected_items, rejected);
    a.response = PartialSuccessResponse(rejected, error_message);
  }
  return a;
}

}  // namespace

ExportHandler::ExportHandler(ExportHandlerOptions options, const Authenticator* auth,
                             pipeline::Sink* sink, common::ReceiverMetrics* metrics)
    : options_(std::move(options)),
      auth_(auth),
      sink_(sink),
      counters_(options_.http ? metrics->http_signals : metrics->signals) {}

void ExportHandler::Handle(const ExportCall& call, Done done) {
  ExportAnswer a = HandleInline(call, &done);
  if (done) std::move(done)(std::move(a));
}

void ExportHandler::CountRefused(wire::Signal signal) {
  common::SignalCounters::Add(counters_[static_cast<int>(signal)].refused_requests, 1);
}

ExportAnswer ExportHandler::HandleInline(const ExportCall& call, Done* done) {
  common::SignalCounters& c = counters_[static_cast<int>(call.signal)];
  auto refuse = [&c](absl::Status st, int64_t items,
                     std::optional<absl::Duration> retry = std::nullopt) {
    common::SignalCounters::Add(c.refused_requests, 1);
    common::SignalCounters::Add(c.refused_items, items);
    ExportAnswer a;
    a.status = std::move(st);
    a.retry_after = retry;
    return a;
  };

  if (!auth_->open() && !auth_->Allows(call.authorization, call.api_key)) {
    return refuse(absl::UnauthenticatedError("missing or invalid bearer token or API key"), 0);
  }

  // A full sink would refuse the batch: refused before the request is
  // inflated and read, so that the work goes to draining the sink.
  if (!sink_->HasRoom()) {
    return refuse(absl::UnavailableError("receiver is busy: sink queue is full"), 0,
                  options_.retry_after);
  }

  // The memory bound, before any work: the ticket counts the request's bytes
  // until the answer is sent and every queued copy is gone.
  const auto wire_bytes = static_cast<int64_t>(call.body.size());
  std::shared_ptr<common::AdmissionTicket> ticket;
  if (options_.admission != nullptr) {
    ticket = options_.admission->TryAdmit(wire_bytes);
    if (ticket == nullptr) {
      return refuse(absl::UnavailableError("receiver is busy: requests in flight and queued are "
                                           "at the memory limit (receiver.max_inflight_mib)"),
                    0, options_.retry_after);
    }
  }
  common::SignalCounters::Add(c.wire_bytes, wire_bytes);
  if (wire_bytes > options_.max_request_bytes) {
    return refuse(
        absl::ResourceExhaustedError(absl::StrCat(
            "request of ", wire_bytes, " bytes is over the limit of ", options_.max_request_bytes)),
        0);
  }

  std::string_view bytes = call.body;
  std::string inflated;
  using E = ExportCall::Encoding;
  if (call.encoding == E::kGzip || call.encoding == E::kDeflate) {
    absl::Status st = Inflate(bytes, options_.max_request_bytes, &inflated);
    if (!st.ok()) return refuse(st, 0);
    bytes = inflated;
  } else if (call.encoding == E::kZstd) {
    absl::Status st = ZstdDecompress(bytes, options_.max_request_bytes, &inflated);
    if (!st.ok()) return refuse(st, 0);
    bytes = inflated;
  } else if (call.encoding == E::kSniff && LooksCompressed(bytes)) {
    // A gzip stream can never be a protobuf message (0x1f is wire type 7); a
    // zlib header can, rarely, so a zlib-looking message that does not
    // inflate is taken as is.
    absl::Status st = Inflate(bytes, options_.max_request_bytes, &inflated);
    if (st.ok()) {
      bytes = inflated;
    } else if (st.code() == absl::StatusCode::kResourceExhausted || IsGzip(bytes)) {
      return refuse(st, 0);
    }
  }
  common::SignalCounters::Add(c.decompressed_bytes, static_cast<int64_t>(bytes.size()));

  absl::StatusOr<wire::ReadResult> read = wire::ReadExportRequest(call.signal, bytes);
  if (!read.ok()) {
    return refuse(absl::InvalidArgumentError(read.status().message()), 0);
  }
  const int64_t accepted = read->items - read->rejected;
  if (accepted == 0) return Accept(c, accepted, read->rejected, read->error_message);

  pipeline::Batch batch;
  batch.signal = call.signal;
  batch.items = accepted;
  // `filtered` is set whenever an item was left out, even one with no data
  // points (a metric without data), so it decides, not the count.
  if (sink_->KeepsBytes()) {
    batch.bytes = !read->filtered.empty() ? std::move(read->filtered) : std::string(bytes);
  }
  // Held from here: the request until it is answered, the batch until every
  // sink is done with it.
  if (ticket != nullptr) {
    ticket->Add(static_cast<int64_t>(batch.bytes.size()));
    batch.admission = ticket;
  }
  // The answer comes when the sink took the batch (or refused it): at once
  // for a memory queue, after the fsync for a persistent one.
  sink_->OfferAsync(
      std::move(batch),
      [&c, refuse, accepted, items = read->items, rejected = read->rejected,
       message = std::move(read->error_message), retry_after = options_.retry_after,
       ticket = std::move(ticket), wire_bytes, done = std::move(*done)](absl::Status st) mutable {
        // Answered: the transport lets go of the received bytes; a queued
        // batch keeps its own copy counted.
        absl::Cleanup release = [&ticket, wire_bytes] {
          if (ticket != nullptr) ticket->Add(-wire_bytes);
        };
        if (!st.ok()) {
          std::move(done)(
              refuse(absl::UnavailableError(absl::StrCat("receiver is busy: ", st.message())),
                     items, retry_after));
          return;
        }
        std::move(done)(Accept(c, accepted, rejected, message));
      });
  *done = nullptr;
  return {};  // answered by the callback
}

}  // namespace tracewire::receiver
