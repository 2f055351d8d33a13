#!/usr/bin/env bash
# Load benchmark, in one run on this machine, for a read and a 50-entry search Bundle at 1 and 50
# connections (wrk): the EPR directly, nginx as a plain reverse proxy, and fhirwall (`serve`, its own
# process, everything on: token check, classification, policy, inspection, quota charge, audit).
#
#   1. against a FAST EPR — nginx serving fixed FHIR JSON files (a Patient, a 50-entry searchset), so
#      that fhirwall's own cost shows (a slow EPR hides it);
#   2. against the demo's EPR (HAPI FHIR over synthetic patients; about 70 searches/s): the second table.
#
#   bench/run.sh                       (builds the jars if missing; installs nginx and wrk from Debian if missing)
#   DURATION=20s bench/run.sh          (per measurement, default 10s; WARMUP default 5s)
#   JAVA_OPTS='-Xmx256m' bench/run.sh  (fhirwall's JVM flags; default: the README's production launch flags)
#   DEMO_EPR=0 bench/run.sh            (skip the second table)
#   JIT_WARMUP=20s bench/run.sh        (fhirwall's warm-up per shape after its start, before its first
#                                       measurement: the JVM's compiler at work is not fhirwall's cost)
# Prints req/s, p50, p99 and non-2xx per run, the ratios against nginx and direct, the CPU seconds
# per 1,000 requests of fhirwall and of the nginx proxy (its workers), fhirwall's RSS, and the CPU of
# fhirwall's audit writer thread as a share of fhirwall's and of the whole machine's (on a machine
# the load keeps busy, that share is what writing the audit takes from the throughput). A run in which any answer is not 2xx is INVALID (a fast
# refusal is not throughput).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
DEMO_EPR=${DEMO_EPR:-1}
# shellcheck source=bench/lib.sh
source bench/lib.sh
# The demo: its token issuer (fhirwall trusts it), a clinician token, and its EPR for the second table.
start_issuer 2000
start_fast_epr
fast_proxy_port=$(free_port)
start_nginx fast-proxy "$(proxy_conf "$fast_proxy_port" "$(echo "$FAST_BASE" | sed -E 's#http://([^/]+)/.*#\1#')")"
demo_proxy_port=$(free_port)
start_nginx demo-proxy "$(proxy_conf "$demo_proxy_port" "$(echo "$EPR_BASE" | sed -E 's#http://([^/]+)/.*#\1#')")"

invalid=0
table() { # title direct-base nginx-base nginx-name read-path search-path
  local title=$1 direct=$2 nginx=$3 nginx_name=$4 read=$5 search=$6
  echo
  echo "== $title"
  printf "%-8s %-6s %-9s %10s %10s %10s %8s %14s\n" shape conns via "req/s" "p50 ms" "p99 ms" non-2xx "cpu s/1000req"
  for shape in read search; do
    path=$read; [ "$shape" = search ] && path=$search
    for conns in 1 50; do
      for via in direct nginx fhirwall; do
        base=$direct; pid=; [ "$via" = nginx ] && { base=$nginx; pid=$(nginx_workers "$nginx_name"); }
        [ "$via" = fhirwall ] && { base=$PROXY_BASE; pid=$FHIRWALL_PID; }
        key="$title-$shape-$conns-$via"
        measure "$key" "$base" "$path" "$conns" "$pid"
        cpu=""
        [ -n "$pid" ] && cpu=$(per_thousand "${CPU[$key]}" "${REQS[$key]}")
        printf "%-8s %-6s %-9s %10s %10s %10s %8s %14s\n" "$shape" "$conns" "$via" "${RPS[$key]}" "$(ms "${P50[$key]}")" \
          "$(ms "${P99[$key]}")" "${NON2XX[$key]}" "$cpu"
        [ "${NON2XX[$key]}" = 0 ] || invalid=1
      done
    done
  done
  echo "ratios and added latency:"
  for shape in read search; do
    for conns in 1 50; do
      f="$title-$shape-$conns-fhirwall"; d="$title-$shape-$conns-direct"; n="$title-$shape-$conns-nginx"
      python3 - "$shape" "$conns" "${RPS[$f]}" "${RPS[$d]}" "${RPS[$n]}" "$(ms "${P50[$f]}")" "$(ms "${P50[$d]}")" \
        "$(ms "${P99[$f]}")" "$(ms "${P99[$n]}")" "$(per_thousand "${CPU[$f]}" "${REQS[$f]}")" \
        "$(per_thousand "${CPU[$n]}" "${REQS[$n]}")" "${AUDIT[$f]}" "${CPU[$f]}" "${MACHINE[$f]}" "${GC[$f]:-0 0}" \
        "$DURATION" "${REQS[$f]}" <<'PY'
import sys
shape, conns, f, d, n, f50, d50, f99, n99, fcpu, ncpu, audit, fticks, machine, gc, duration, reqs = sys.argv[1:]
f, d, n, f50, d50, f99, n99, fcpu, ncpu, audit, fticks, machine = map(
    float, (f, d, n, f50, d50, f99, n99, fcpu, ncpu, audit, fticks, machine))
cpu = f"  CPU per request fhirwall/nginx {fcpu/ncpu:4.1f}x" if ncpu > 0 else ""
print(f"  {shape:6} c={conns:>2}: fhirwall/nginx {f/n:5.2f}x  fhirwall/direct {f/d:5.2f}x  "
      f"p50 {f50-d50:+.3f} ms over direct  p99 {f99-n99:+.3f} ms vs nginx{cpu}")
if fticks > 0 and machine > 0:
    print(f"             audit writer thread: {100*audit/fticks:4.1f} % of fhirwall's CPU, {100*audit/machine:4.1f} % of the machine's")
pauses, paused = map(int, gc.split())
seconds = float(duration[:-1]) * {"s": 1, "m": 60, "h": 3600}.get(duration[-1], 1) if duration[-1].isalpha() else float(duration)
if pauses > 0:
    print(f"             GC: {pauses} pauses, {paused} ms in all ({100 * paused / 1000 / seconds:.1f} % of the run, "
          f"{paused / pauses:.1f} ms each on average, one per {float(reqs) / pauses:,.0f} requests)")
PY
    done
  done
  rss=$(ps -o rss= -p "$FHIRWALL_PID" 2>/dev/null || echo 0)
  echo "fhirwall RSS after the load: $(( rss / 1024 )) MB; serve ready ${SERVE_READY_MS} ms after launch; JVM flags: $JAVA_OPTS"
}

echo "fhirwall bench — $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${DURATION} per run;"
echo "wrk, the EPR, nginx and fhirwall share this machine. fhirwall: token check, classification, policy,"
echo "inspection, quota charge and audit, the demo's clinician policy (limits the load never reaches);"
echo "each fhirwall warmed up for ${JIT_WARMUP:-20s} per shape at 50 connections after its start (its JIT)."
start_fhirwall fast "$FAST_BASE"
jit_warm_up "$PROXY_BASE" "Patient/p1" "Patient?_count=50"
table "fast EPR (nginx, fixed FHIR JSON)" "$FAST_BASE" "http://127.0.0.1:$fast_proxy_port/fhir" fast-proxy "Patient/p1" "Patient?_count=50"
kill "$FHIRWALL_PID" && wait "$FHIRWALL_PID" 2>/dev/null || true
echo "audit written for this table: $(du -k "$work/audit-fast.jsonl" | cut -f1) KB"

if [ "$DEMO_EPR" = 1 ]; then
  start_fhirwall demo "$EPR_BASE"
  read_id=$(curl -sf -H "Authorization: Bearer $TOKEN" "$PROXY_BASE/Patient?_count=1&_elements=id" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["entry"][0]["resource"]["id"])')
  JIT_WARMUP=${JIT_WARMUP:-20s} jit_warm_up "$PROXY_BASE" "Patient/$read_id"
  table "demo EPR (HAPI FHIR, 2,000 patients)" "$EPR_BASE" "http://127.0.0.1:$demo_proxy_port/fhir" demo-proxy "Patient/$read_id" "Patient?_count=50"
fi
if [ "$invalid" = 1 ]; then echo "INVALID: some answers were not 2xx (see the non-2xx column)"; exit 1; fi
