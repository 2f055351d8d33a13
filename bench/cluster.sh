#!/usr/bin/env bash
# Load benchmark of the quota store: fhirwall with the Redis store (quota.store: redis, a redis-server
# of its own on loopback) against fhirwall with the local store, in one run, in front of the same
# upstream: nginx serving fixed FHIR JSON (a Patient, a 50-entry searchset Bundle), as fast as
# possible, so that fhirwall's own cost shows. For a read and the Bundle, at 1 and 50 connections,
# and (shape "refuse") the read by a role that refuses at its limit (at-limit.action: refuse: each
# admission asks whether the account is held; two more fhirwall processes, limits no load reaches).
# Prints requests/s and p50/p99 for each, the CPU seconds per 1,000 requests of each fhirwall, of
# redis-server and of the whole machine (wrk and nginx included), the ratios redis/local, and the
# scripts Redis ran per request of each redis row.
#   bench/cluster.sh               (builds the jars if missing; installs nginx, wrk and redis-server
#                                   from Debian if missing)
#   DURATION=20s bench/cluster.sh  (per measurement, default 10s)
#   SHAPES="read refuse" CONNS=1 bench/cluster.sh   (a subset: shapes of "read search refuse",
#                                   connections of "1 50")
# A run in which any answer is not 2xx is reported as INVALID.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
EXTRA_PACKAGES=redis-server
# shellcheck source=bench/lib.sh
source bench/lib.sh
start_issuer 100      # the demo's token issuer (its EPR and fhirwall are not measured here)
start_fast_epr        # nginx serving a fixed Patient and 50-entry searchset Bundle

SHAPES=${SHAPES:-read search refuse}
CONNS=${CONNS:-1 50}
# Redis, and two fhirwall processes that differ only in their quota store (two more for the refusing role)
start_both_stores
stores="local redis"
if [[ " $SHAPES " == *" refuse "* ]]; then
  start_refusing_stores
  stores="$stores local-refuse redis-refuse"
fi
MEASURE_REDIS_PORT=$redis_port

for store in $stores; do
  paths=("Patient/p1" "Patient?_count=50")
  [[ "$store" == *-refuse ]] && paths=("Patient/p1")
  for path in "${paths[@]}"; do
    status=$(curl -s -o "$work/check" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "${BASE[$store]}/$path")
    [ "$status" = 200 ] || { echo "fhirwall ($store) answered $status to $path:"; head -c 600 "$work/check"; echo; exit 1; }
  done
  jit_warm_up "${BASE[$store]}" "${paths[@]}"
done

echo "fhirwall quota store bench — $(date -u +%FT%TZ), $(nproc) cores, ${DURATION} per run; wrk, nginx (static upstream), redis-server and both fhirwall processes share this machine"
printf "%-7s %-6s %-6s %10s %10s %10s %8s %14s %10s %12s\n" shape conns store "req/s" "p50 ms" "p99 ms" non-2xx "cpu s/1000req" "redis cpu" \
  "machine cpu"
for shape in $SHAPES; do
  path="Patient/p1"; [ "$shape" = search ] && path="Patient?_count=50"
  role=""; [ "$shape" = refuse ] && role="-refuse"
  for conns in $CONNS; do
    for store in local redis; do
      key="$shape-$conns-$store"
      redis_before=$(cpu_ticks "$redis_pid")
      measure "$key" "${BASE[$store$role]}" "$path" "$conns" "${PID[$store$role]}"
      redis_cpu=$(( $(cpu_ticks "$redis_pid") - redis_before ))
      printf "%-7s %-6s %-6s %10s %10s %10s %8s %14s %10s %12s\n" "$shape" "$conns" "$store" "${RPS[$key]}" "$(ms "${P50[$key]}")" "$(ms "${P99[$key]}")" "${NON2XX[$key]}" \
        "$(per_thousand "${CPU[$key]}" "${REQS[$key]}")" "$([ "$store" = redis ] && per_thousand "$redis_cpu" "${REQS[$key]}")" \
        "$(per_thousand "${MACHINE[$key]}" "${REQS[$key]}")"
    done
  done
done
echo
echo "redis store against local store (budget: >= 0.90x throughput, p99 <= +1 ms):"
invalid=0
for shape in $SHAPES; do
  for conns in $CONNS; do
    r="$shape-$conns-redis"; l="$shape-$conns-local"
    python3 - "$shape" "$conns" "${RPS[$r]}" "${RPS[$l]}" "$(ms "${P99[$r]}")" "$(ms "${P99[$l]}")" <<'PY'
import sys
shape, conns, r, l, r99, l99 = sys.argv[1:]
r, l, r99, l99 = map(float, (r, l, r99, l99))
print(f"  {shape:6} c={conns:>2}: redis/local {r/l:5.2f}x  p99 {r99-l99:+.3f} ms")
PY
    for k in "$r" "$l"; do [ "${NON2XX[$k]}" = 0 ] || invalid=1; done
  done
done
echo "  scripts Redis ran per request (EVALSHA, EVAL):$(for shape in $SHAPES; do for conns in $CONNS; do
  k="$shape-$conns-redis"; awk -v s="$shape" -v c="$conns" -v n="${SCRIPTS[$k]}" -v r="${REQS[$k]}" \
    'BEGIN {printf " %s c=%s %.3f;", s, c, n / r}'; done; done)"
echo "  keys in Redis after the run: $(redis-cli -p "$redis_port" dbsize); Redis's own time per call (INFO commandstats):"
redis-cli -p "$redis_port" info commandstats | tr -d '\r' \
  | awk -F'[:,=]' '/^cmdstat_/ {printf "    %-10s %9s calls %8s us/call\n", substr($1, 9), $3, $7}'
echo "  load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$invalid" = 1 ]; then echo "INVALID: some answers were not 2xx (see the non-2xx column)"; exit 1; fi
