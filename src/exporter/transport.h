#pragma once
// Transport sends one encoded Export request and reports what came back.
// The retry decision is not made here: the transport only reports the code,
// the server's RetryInfo delay and any partial_success.
//
// Implementations are thread-safe: several workers send at once.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "wire/otlp_reader.h"

namespace tracewire::exporter {

struct SendResult {
  absl::Status status;
  std::optional<absl::Duration> retry_delay;  // google.rpc.RetryInfo, if sent
  int64_t rejected = 0;                       // partial_success count
  std::string rejected_message;               // partial_success error_message
  int64_t compressed_bytes = 0;  // the request's size after compression, when counted
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual SendResult Send(wire::Signal signal, const std::string& request, absl::Time deadline) = 0;
  // Cancels the calls in flight (shutdown past its deadline). Later sends fail.
  virtual void CancelAll() = 0;

  // fork(), in the parent: PrepareFork before it lets the sends in flight end
  // and holds new ones back until AfterForkParent. A forked child does not use
  // the parent's transport at all; its owner builds a new one.
  virtual void PrepareFork() {}
  virtual void AfterForkParent() {}

  // Rotated TLS files taken, and replacements refused (bad files); 0 for a
  // transport without TLS files.
  virtual int64_t tls_reloads() const { return 0; }
  virtual int64_t tls_reload_failures() const { return 0; }
};

}  // namespace tracewire::exporter
