#pragma once
// CPU time and memory of a process, read from /proc: for the receiver under
// test and for tracewire-bench itself.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace tracewire::bench {

struct ProcSample {
  bool ok = false;
  double cpu_s = 0;     // utime + stime
  double rss_mib = 0;   // VmRSS
  double hwm_mib = 0;   // VmHWM
};

inline ProcSample SampleProc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!stat || !std::getline(stat, line)) return s;
  // The command name (field 2) may hold spaces: fields resume after the last ')'.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After ')': field 3 (state) is index 0; utime is field 14, stime field 15.
  for (int i = 3; i <= 15 && (rest >> field); ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %lld kB", &kb) == 1) s.rss_mib = kb / 1024.0;
    if (std::sscanf(line.c_str(), "VmHWM: %lld kB", &kb) == 1) s.hwm_mib = kb / 1024.0;
  }
  s.ok = true;
  return s;
}

}  // namespace tracewire::bench
