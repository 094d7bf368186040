#include "exporter/grpc_log.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/support/log.h"

namespace tracewire::exporter {
namespace {

thread_local std::string t_last_error;

std::atomic<bool> g_passthrough{false};

// Constant-initialized: gRPC may log before main() and from its threads at exit.
ABSL_CONST_INIT absl::Mutex g_mu(absl::kConstInit);
std::string* g_program ABSL_GUARDED_BY(g_mu) = nullptr;       // never destroyed
std::string* g_last_printed ABSL_GUARDED_BY(g_mu) = nullptr;  // never destroyed

const char* Basename(const char* file) {
  if (file == nullptr) return "?";
  const char* slash = std::strrchr(file, '/');
  return slash ? slash + 1 : file;
}

// Lines whose cause tracewire reports itself, with the endpoint or the
// address and the option that named it.
bool ReportedByUs(const char* file, const char* message) {
  static const char* const kFiles[] = {
      // A connection or TLS handshake that failed: the exporter's status.
      "ssl_transport_security.cc", "security_handshaker.cc", "handshaker.cc", "tcp_client_posix.cc",
      "subchannel.cc", "ssl_utils.cc",
      // A port that cannot be bound: the receiver's status.
      "chttp2_server.cc", "server_builder.cc", "tcp_server_posix.cc",
      "tcp_server_utils_posix_common.cc", "tcp_server_utils_posix_ifaddrs.cc",
      "resolve_address_posix.cc"};
  for (const char* f : kFiles) {
    if (std::strcmp(file, f) == 0) return true;
  }
  return absl::StrContains(message, "Handshake failed") ||
         absl::StrContains(message, "grpc_server_add_http2_port");
}

char SeverityLetter(gpr_log_severity s) {
  switch (s) {
    case GPR_LOG_SEVERITY_DEBUG:
      return 'D';
    case GPR_LOG_SEVERITY_INFO:
      return 'I';
    case GPR_LOG_SEVERITY_ERROR:
      return 'E';
  }
  return '?';
}

void LogFunction(gpr_log_func_args* args) {
  const char* file = Basename(args->file);
  const char* message = args->message ? args->message : "";
  if (args->severity == GPR_LOG_SEVERITY_ERROR) t_last_error = message;
  if (g_passthrough.load(std::memory_order_relaxed)) {
    // gRPC's own format (log_linux.cc), so that its detail reads as usual.
    const absl::Time now = absl::Now();
    std::fprintf(stderr, "%c%s %7ld %s:%d] %s\n", SeverityLetter(args->severity),
                 absl::FormatTime("%m%d %H:%M:%E6S", now, absl::LocalTimeZone()).c_str(),
                 static_cast<long>(syscall(SYS_gettid)), file, args->line, message);
    return;
  }
  if (args->severity != GPR_LOG_SEVERITY_ERROR) return;
  if (ReportedByUs(file, message)) return;
  std::string text = GrpcErrorCause(message);
  absl::MutexLock lock(&g_mu);
  if (g_last_printed == nullptr) g_last_printed = new std::string();
  if (*g_last_printed == text) return;  // the same problem, already shown
  *g_last_printed = text;
  std::fprintf(stderr, "%s: grpc: %s (%s:%d)\n", g_program ? g_program->c_str() : "tracewire",
               text.c_str(), file, args->line);
}

}  // namespace

void InstallGrpcLogSink(const char* program) {
  {
    absl::MutexLock lock(&g_mu);
    if (program != nullptr && g_program == nullptr) g_program = new std::string(program);
  }
  static std::once_flag once;
  std::call_once(once, [] {
    g_passthrough.store(
        std::getenv("GRPC_VERBOSITY") != nullptr || std::getenv("GRPC_TRACE") != nullptr,
        std::memory_order_relaxed);
    gpr_set_log_function(&LogFunction);
  });
}

std::string TakeGrpcError() {
  std::string cause = GrpcErrorCause(t_last_error);
  t_last_error.clear();
  return cause;
}

std::string GrpcErrorCause(const std::string& text) {
  absl::string_view s = text;
  // The innermost child: gRPC's status text nests them as children:[...].
  for (size_t at; (at = s.find("children:[")) != absl::string_view::npos;) {
    s.remove_prefix(at + std::strlen("children:["));
  }
  // Cut the attributes ({created_time:..., ...}) and what closes the list.
  s = s.substr(0, std::min(s.find(" {"), s.find(']')));
  // A leading status code ("UNKNOWN:").
  if (const size_t colon = s.find(':'); colon != absl::string_view::npos) {
    const absl::string_view code = s.substr(0, colon);
    if (!code.empty() && std::all_of(code.begin(), code.end(),
                                     [](char c) { return absl::ascii_isupper(c) || c == '_'; })) {
      s.remove_prefix(colon + 1);
    }
  }
  return std::string(absl::StripAsciiWhitespace(s));
}

}  // namespace tracewire::exporter
