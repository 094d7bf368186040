#!/usr/bin/env bash
# The "receive" benchmark of shared/bench/WORKLOAD.md (issue #2): prebuilt
# 512-span ExportTraceServiceRequests sent over loopback by tracewire-bench to
#   tw-none   tracewired --sink none
#   tw-file   tracewired --sink file (into a temporary directory, removed)
#   tw-store  tracewired --sink store (the default sink; a temporary database)
#   baseline  tracewire-baseline-receiver (libprotobuf, generated service)
#   baseline-arena  the same, parsing into a protobuf Arena (the tuned way)
# each started afresh on 127.0.0.1:0 for every run, the configurations
# interleaved run by run so that the machine's noise spreads over all of them;
# then paced runs at PACED_RATE spans/s against tw-none, tw-file and the
# baseline for the RSS figure. Prints every command and result line, then a
# summary: medians, spread ((max-min)/median) and the ratios
# tracewired/baseline of the same invocation. BENCHMARKS.md reads the figures.
#
#   scripts/bench.sh BINDIR
#
# Environment: SECONDS_PER_RUN (10), RUNS (3), STREAMS (4), PACED_RATE
# (10000), PACED_RUNS (1), CONFIGS (the configurations of the full-rate runs,
# default "tw-none tw-file tw-store baseline baseline-arena"), OUT (a file to
# keep the raw result lines in),
# WAIT_IDLE_S (0: before each run, wait at most this long for the machine to
# be idle, under 10% busy over 2 s; for shared machines).
# Loopback only; every step is bounded by a timeout.
set -euo pipefail

BIN=${1:-build/bin}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
RUNS=${RUNS:-3}
STREAMS=${STREAMS:-4}
PACED_RATE=${PACED_RATE:-10000}
PACED_RUNS=${PACED_RUNS:-1}
CONFIGS=${CONFIGS:-tw-none tw-file tw-store baseline baseline-arena}
for v in SECONDS_PER_RUN RUNS STREAMS PACED_RATE PACED_RUNS; do
  case ${!v} in '' | *[!0-9]*) echo "bench.sh: $v must be a whole number" >&2; exit 2 ;; esac
done

for b in tracewired tracewire-bench tracewire-baseline-receiver; do
  [ -x "$BIN/$b" ] || { echo "bench.sh: $BIN/$b not built" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tracewire-bench.XXXXXX)
RESULTS="$WORK/results.txt"
: >"$RESULTS"
RPID=""
cleanup() {
  if [ -n "$RPID" ] && kill -0 "$RPID" 2>/dev/null; then
    kill -KILL "$RPID" 2>/dev/null || true
    wait "$RPID" 2>/dev/null || true
  fi
  if [ -n "${OUT:-}" ] && [ -s "$RESULTS" ]; then cp "$RESULTS" "$OUT"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_receiver CONFIG: starts it on 127.0.0.1:0; sets RPID and RADDR.
start_receiver() {
  local cfg=$1 out="$WORK/$1.out" err="$WORK/$1.err" prefix cmd
  # The files of an earlier run must go first: the receiver's shell truncates
  # them only once it runs, and the old listening line would name a dead port.
  rm -f "$out" "$err"
  rm -rf "$WORK/data"
  case $cfg in
    tw-none)
      cmd=("$BIN/tracewired" --listen 127.0.0.1:0 --metrics-listen '' --sink none)
      prefix="tracewired listening on " ;;
    tw-file)
      cmd=("$BIN/tracewired" --listen 127.0.0.1:0 --metrics-listen '' --sink file
        --file-dir "$WORK/data")
      prefix="tracewired listening on " ;;
    tw-store)
      cmd=("$BIN/tracewired" --listen 127.0.0.1:0 --metrics-listen '' --sink store
        --store-path "$WORK/data/tracewire.db")
      prefix="tracewired listening on " ;;
    baseline)
      cmd=("$BIN/tracewire-baseline-receiver" --listen 127.0.0.1:0)
      prefix="baseline listening on " ;;
    baseline-arena)
      cmd=("$BIN/tracewire-baseline-receiver" --listen 127.0.0.1:0 --arena)
      prefix="baseline listening on " ;;
    *) echo "bench.sh: unknown configuration $cfg" >&2; exit 2 ;;
  esac
  echo "+ [$cfg] $(printf "%q " "${cmd[@]}")"
  "${cmd[@]}" >"$out" 2>"$err" &
  RPID=$!
  RADDR=""
  for _ in $(seq 1 100); do
    RADDR=$(sed -n "s/^$prefix//p" "$out" 2>/dev/null || true)
    [ -n "$RADDR" ] && break
    kill -0 "$RPID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$RADDR" ]; then
    echo "bench.sh: $cfg did not start:" >&2
    cat "$err" >&2
    exit 1
  fi
}

# stop_receiver: SIGTERM, then SIGKILL if it has not exited within 30 s.
stop_receiver() {
  kill -TERM "$RPID" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$RPID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$RPID" 2>/dev/null; then
    echo "bench.sh: receiver $RPID did not stop; killing it" >&2
    kill -KILL "$RPID" 2>/dev/null || true
  fi
  wait "$RPID" 2>/dev/null || true
  RPID=""
  rm -rf "$WORK/data"
}

# wait_idle: see WAIT_IDLE_S.
wait_idle() {
  [ "${WAIT_IDLE_S:-0}" -gt 0 ] || return 0
  local deadline=$((SECONDS + WAIT_IDLE_S)) u1 n1 s1 i1 w1 q1 sq1 st1 u2 n2 s2 i2 w2 q2 sq2 st2 busy idle
  while [ "$SECONDS" -lt "$deadline" ]; do
    read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
    sleep 2
    read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
    busy=$(((u2 + n2 + s2 + q2 + sq2 + st2) - (u1 + n1 + s1 + q1 + sq1 + st1)))
    idle=$(((i2 + w2) - (i1 + w1)))
    [ $((busy * 10)) -lt $((busy + idle)) ] && return 0
  done
  echo "bench.sh: the machine is still busy after ${WAIT_IDLE_S}s; running anyway" >&2
}

# run_one CONFIG RUN [extra tracewire-bench flags...]: one measurement, with a
# fresh receiver; tried a second time (new receiver) if it produced no result.
run_one() {
  local cfg=$1 run=$2
  shift 2
  local attempt line
  for attempt in 1 2; do
    wait_idle
    start_receiver "${cfg#paced-}"
    # The store deduplicates: every span it is sent must be new.
    local unique=()
    if [ "${cfg#paced-}" = tw-store ]; then unique=(--unique-ids); fi
    local cmd=("$BIN/tracewire-bench" --scenario receive --endpoint "$RADDR" --streams "$STREAMS"
      --seconds "$SECONDS_PER_RUN" --spans-per-request 512 --receiver-pid "$RPID" "${unique[@]}" "$@")
    echo "+ [$cfg run $run] $(printf "%q " "${cmd[@]}")"
    line=$(timeout $((SECONDS_PER_RUN + 60)) "${cmd[@]}" 2>"$WORK/bench.err" | tail -n 1) || true
    sed 's/^/  bench: /' "$WORK/bench.err"
    if [ -z "$line" ] || [ "${line#scenario=receive}" = "$line" ]; then
      echo "bench.sh: no result from tracewire-bench for $cfg run $run (attempt $attempt);" \
        "receiver alive: $(kill -0 "$RPID" 2>/dev/null && echo yes || echo no)" >&2
      sed 's/^/  receiver: /' "$WORK/${cfg#paced-}.err" >&2
      stop_receiver
      continue
    fi
    stop_receiver
    echo "  $line"
    echo "config=$cfg run=$run $line" >>"$RESULTS"
    return 0
  done
}

echo "== machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "== $RUNS runs x ${SECONDS_PER_RUN}s per configuration, $STREAMS streams, 512 spans/request, WAIT_IDLE_S=${WAIT_IDLE_S:-0}"
for run in $(seq 1 "$RUNS"); do
  for cfg in $CONFIGS; do
    run_one "$cfg" "$run"
  done
done
echo "== paced: $PACED_RATE spans/s"
for run in $(seq 1 "$PACED_RUNS"); do
  for cfg in tw-none tw-file baseline; do
    run_one "paced-$cfg" "$run" --rate "$PACED_RATE"
  done
done

# ---- summary -----------------------------------------------------------------
summary() {
  awk '
    function median(cfg, key,   n, i, j, t, a) {
      n = cnt[cfg, key]
      if (n == 0) { lo[cfg, key] = -1; hi[cfg, key] = -1; return -1 }
      for (i = 1; i <= n; i++) a[i] = val[cfg, key, i]
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      lo[cfg, key] = a[1]; hi[cfg, key] = a[n]
      if (n % 2) return a[(n + 1) / 2]
      return (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
      split("", f)
      for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      cfg = f["config"]
      if (!(cfg in seen)) { seen[cfg] = 1; order[++ncfg] = cfg }
      for (k = 1; k <= nkeys; k++) {
        key = keys[k]
        if (key in f) { n = ++cnt[cfg, key]; val[cfg, key, n] = f[key] + 0 }
      }
    }
    BEGIN {
      nkeys = split("spans_per_s receiver_cpu_s_per_1m receiver_peak_rss_mib receiver_rss_mib client_cpu_s_per_1m errors p99_ms other_cpu_s", keys, " ")
    }
    END {
      printf "%-15s %4s %24s %24s %22s %17s %12s %7s %12s\n", "config", "runs", "spans/s median (spread)",
        "rx CPU s/1M spans", "rx peak RSS MiB", "rx RSS MiB (end)", "client s/1M", "errors", "other CPU s"
      for (c = 1; c <= ncfg; c++) {
        cfg = order[c]
        for (k = 1; k <= nkeys; k++) med[cfg, keys[k]] = median(cfg, keys[k])
        sp = med[cfg, "spans_per_s"]
        cpu = med[cfg, "receiver_cpu_s_per_1m"]
        sp_spread = 0; cpu_spread = 0
        if (sp > 0) sp_spread = 100 * (hi[cfg, "spans_per_s"] - lo[cfg, "spans_per_s"]) / sp
        if (cpu > 0) cpu_spread = 100 * (hi[cfg, "receiver_cpu_s_per_1m"] - lo[cfg, "receiver_cpu_s_per_1m"]) / cpu
        printf "%-15s %4d %12.0f (%5.1f%%)     %8.3f (%5.1f%%)     %7.1f (%5.1f-%5.1f) %17.1f %12.3f %7d %12.2f\n",
          cfg, cnt[cfg, "spans_per_s"], sp, sp_spread, cpu, cpu_spread,
          med[cfg, "receiver_peak_rss_mib"], lo[cfg, "receiver_peak_rss_mib"], hi[cfg, "receiver_peak_rss_mib"],
          med[cfg, "receiver_rss_mib"], med[cfg, "client_cpu_s_per_1m"], med[cfg, "errors"], med[cfg, "other_cpu_s"]
      }
      print ""
      print "ratios against the baselines of the same invocation (medians):"
      for (c = 1; c <= ncfg; c++) {
        cfg = order[c]
        base = (cfg ~ /^paced-/) ? "paced-baseline" : "baseline"
        if (cfg ~ /^baseline-/) base = ""
        if (cfg == "tw-none") base = base " baseline-arena"
        nb = split(base, bases, " ")
        for (b = 1; b <= nb; b++) ratio(cfg, bases[b])
      }
    }
    function ratio(cfg, base) {
      if (cfg == base || cnt[base, "spans_per_s"] == 0) return
      if (med[base, "spans_per_s"] <= 0 || med[base, "receiver_cpu_s_per_1m"] <= 0 || med[base, "receiver_peak_rss_mib"] <= 0) return
      printf "  %-15s / %-15s spans/s x%.2f   receiver CPU/span x%.2f   receiver peak RSS x%.2f\n", cfg, base,
        med[cfg, "spans_per_s"] / med[base, "spans_per_s"],
        med[cfg, "receiver_cpu_s_per_1m"] / med[base, "receiver_cpu_s_per_1m"],
        med[cfg, "receiver_peak_rss_mib"] / med[base, "receiver_peak_rss_mib"]
    }' "$RESULTS"
}
echo
echo "== summary (medians; spread = (max-min)/median; rx = receiver; RSS spread = min-max;"
echo "   errors = failed calls, for tw-file and tw-store UNAVAILABLE from the full sink queue (backpressure);"
echo "   other CPU s = CPU used during the window by neither the receiver nor the generator)"
summary
