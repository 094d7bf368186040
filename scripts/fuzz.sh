#!/usr/bin/env bash
# Runs every fuzz target of BIN_DIR (the *_fuzzer programs of the
# AddressSanitizer build) for SECONDS each, JOBS at a time.
#
#   scripts/fuzz.sh BIN_DIR SECONDS [JOBS]
#
# Each target starts from its committed corpus (fuzz/corpus/<target>, read
# only) and from what earlier runs found (WORK_DIR/<target>, default
# BIN_DIR/../fuzz-work), where it also writes new inputs and crashes.
# Prints one line per target (runs, corpus, outcome) and exits 1 when a
# target crashed, leaked, timed out or broke an invariant, naming the input
# that did: copy it to fuzz/corpus/<target>/ with the fix so it stays found.
set -euo pipefail
bin=$(cd "$1" && pwd)
seconds=$2
jobs=${3:-$(nproc)}
src=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK_DIR:-$bin/../fuzz-work}
mkdir -p "$work"
work=$(cd "$work" && pwd)

targets=$(cd "$bin" && ls -1 | grep '_fuzzer$' || true)
[ -n "$targets" ] || { echo "fuzz: no *_fuzzer in $bin" >&2; exit 1; }

run_one() {
  local t=$1 out="$work/$1" log="$work/$1.log"
  mkdir -p "$out"
  local corpus=()
  [ -d "$src/fuzz/corpus/$t" ] && corpus=("$src/fuzz/corpus/$t")
  set +e
  "$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$out/" "$out" "${corpus[@]}" >"$log" 2>&1
  local rc=$?
  set -e
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ $rc -eq 0 ]; then
    echo "fuzz: $t ok runs=${runs:-?} corpus=$(ls "$out" | grep -vc '^\(crash\|leak\|timeout\|oom\)-' || true)"
  else
    echo "fuzz: $t FAILED (exit $rc): $(ls "$out" | grep -E '^(crash|leak|timeout|oom)-' | sed "s|^|$out/|" | tr '\n' ' ')"
    grep -E 'ERROR|invariant|SUMMARY' "$log" | head -n 5 | sed 's/^/  /'
    return 1
  fi
}
export -f run_one
export bin seconds src work

failed=0
echo "$targets" | xargs -P "$jobs" -I{} bash -c 'run_one {}' || failed=1
exit $failed
