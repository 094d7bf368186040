#pragma once
// The "logs" scenario of shared/bench/WORKLOAD.md for tracewire-bench: the
// standard log record (INFO, body "user 42 logged in", user.id, http.route,
// enduser.role) emitted inside an active span through the batch log record
// processor (default settings) to an exporter that discards. Prints one
// line of key=value figures, ending with ns_per_op, ops_per_s, dropped and
// cpu_s_per_1m.

#include "sdk_scenarios.h"

namespace tracewire::bench {

int RunLogsScenario(const ScenarioArgs& args);

}  // namespace tracewire::bench
