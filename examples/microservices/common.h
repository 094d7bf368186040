#pragma once
// What the three services of the example share: the SDK from the standard
// OTEL_* variables, and waiting for SIGTERM/SIGINT to stop cleanly.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "tracewire/sdk.h"

namespace example {

// Blocks SIGTERM and SIGINT in this thread and the threads it starts after,
// so that WaitForStop receives them.
inline sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

inline void WaitForStop(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
}

// The SDK, or exits naming the problem.
inline tracewire::Sdk InitSdkOrDie(const char* program) {
  absl::StatusOr<tracewire::Sdk> sdk = tracewire::InitFromEnv();
  if (!sdk.ok()) {
    std::fprintf(stderr, "%s: %s\n", program, std::string(sdk.status().message()).c_str());
    std::exit(2);
  }
  return std::move(*sdk);
}

inline void ShutdownSdk(tracewire::Sdk& sdk, const char* program) {
  absl::Status st = sdk.Shutdown(absl::Now() + absl::Seconds(10));
  if (!st.ok())
    std::fprintf(stderr, "%s: shutdown: %s\n", program, std::string(st.message()).c_str());
}

}  // namespace example
