#pragma once
// How many of the cores this process may run on it left unused: the cores
// it may run on, less the CPU time all its threads took over the wall time
// between two readings. A component with work to hand to a thread of its
// own asks this before waking it: with no core to spare, the wake takes a
// core from another of the process's threads.
//
// Only this process's use is counted (other processes are not seen), and
// the cores are those of the affinity mask read at construction (a CPU
// quota of a cgroup is not seen either).
//
// Not thread-safe: one owner reads it.

#include <cstdint>

namespace tracewire::common {

class SpareCoresMeter {
 public:
  // Starts the first interval now.
  SpareCoresMeter();

  int cores() const { return cores_; }

  // The cores left unused since the previous Read (or construction), in
  // [0, cores()]; starts the next interval. An interval too short to tell
  // (under a microsecond) reads as all cores spare.
  double Read();

  // The arithmetic of Read: `cores` less `cpu_ns` of CPU time spent over
  // `wall_ns`, clamped to [0, cores].
  static double Spare(int64_t cpu_ns, int64_t wall_ns, int cores);

 private:
  int cores_;
  int64_t last_cpu_ns_;
  int64_t last_wall_ns_;
};

}  // namespace tracewire::common
