#pragma once
// The check of the fuzz targets of this folder (see README.md): a target
// that finds a broken invariant calls FuzzCheck, which aborts with the
// message so that libFuzzer records the input as a crash.

#include <cstdio>
#include <cstdlib>

namespace tracewire::fuzz {

inline void FuzzCheck(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace tracewire::fuzz
