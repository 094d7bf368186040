#pragma once
// The CLI's store queries: `tracewire traces | trace | services | metrics |
// logs`, printing human text (coloured only when `color`) or JSON to `out`,
// and errors (missing or foreign store, unknown trace) to `err`. Each returns
// the process exit code: 0, 1 (nothing found / store error), 2 (bad usage).
//
// Thread-compatible.

#include <cstdint>
#include <cstdio>
#include <string>

#include "store/store_reader.h"

namespace tracewire::tools {

struct QueryOutput {
  std::string store_path;
  bool json = false;
  bool color = false;
  FILE* out = stdout;
  FILE* err = stderr;
};

int RunTracesQuery(const QueryOutput& o, const store::TraceFilter& filter);
int RunTraceQuery(const QueryOutput& o, const std::string& trace_id_hex);
int RunServicesQuery(const QueryOutput& o, int64_t since_ns);
int RunMetricsQuery(const QueryOutput& o, const std::string& name, const std::string& service,
                    int64_t points);
int RunLogsQuery(const QueryOutput& o, const store::LogFilter& filter);

// "15m", "2h", "1.5s" (ago) or an RFC 3339 time, as Unix nanoseconds.
bool ParseTimeFlag(const std::string& text, int64_t* unix_ns);
// "250ms", "1s", "300us", as nanoseconds.
bool ParseDurationFlag(const std::string& text, int64_t* ns);
// "error", "warn", "info", "debug", "trace", "fatal" or a number 1-24.
bool ParseSeverityFlag(const std::string& text, uint32_t* severity);

}  // namespace tracewire::tools
