#include "common/spare_cores.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <thread>

namespace tracewire::common {
namespace {

int64_t Nanos(clockid_t clock) {
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return 0;
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int AllowedCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    // (More CPUs than a cpu_set_t holds, say.)
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  return std::max(1, CPU_COUNT(&set));
}

}  // namespace

SpareCoresMeter::SpareCoresMeter()
    : cores_(AllowedCores()),
      last_cpu_ns_(Nanos(CLOCK_PROCESS_CPUTIME_ID)),
      last_wall_ns_(Nanos(CLOCK_MONOTONIC)) {}

double SpareCoresMeter::Spare(int64_t cpu_ns, int64_t wall_ns, int cores) {
  if (wall_ns < 1000) return cores;
  const double used = static_cast<double>(cpu_ns) / static_cast<double>(wall_ns);
  return std::clamp(cores - used, 0.0, static_cast<double>(cores));
}

double SpareCoresMeter::Read() {
  const int64_t cpu = Nanos(CLOCK_PROCESS_CPUTIME_ID);
  const int64_t wall = Nanos(CLOCK_MONOTONIC);
  const double spare = Spare(cpu - last_cpu_ns_, wall - last_wall_ns_, cores_);
  last_cpu_ns_ = cpu;
  last_wall_ns_ = wall;
  return spare;
}

}  // namespace tracewire::common
