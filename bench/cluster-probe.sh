#!/usr/bin/env bash
# Where a request's extra cost with the Redis store goes, at few connections: the two `serve` processes
# of bench/cluster.sh (quota.store local and redis, a redis-server of their own, nginx's fixed Patient),
# warmed up, then for each in turn, at CONNS connections on the read (or PATH_=...):
#   1. wrk for DURATION: requests, p50, and per request: CPU (user + system) of each fhirwall thread that
#      worked, its context switches (voluntary: it slept and was woken), redis-server's CPU and context
#      switches, and the Redis calls (INFO commandstats);
#   2. strace -c on fhirwall's event loops for STRACE seconds under the same load: system calls per request
#      (strace slows the process: the counts hold, not the timings);
#   3. async-profiler (itimer, CPU of every thread) for DURATION: collapsed stacks to bench/target/probe/.
#   4. with PERF=1, perf (cpu-clock) on the event loops for STRACE seconds: their CPU by symbol, the kernel's included.
#   CONNS=1 DURATION=15s bench/cluster-probe.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-5s}
CONNS=${CONNS:-1}
STRACE=${STRACE:-5}
PATH_=${PATH_:-Patient/p1}
EXTRA_PACKAGES="redis-server strace"
out=bench/target/probe
mkdir -p "$out"
lib=bench/target/profile/libasyncProfiler.so
if [ ! -f "$lib" ]; then
  mkdir -p bench/target/profile
  mvn -q dependency:copy -Dartifact=tools.profiler:async-profiler:4.2 -DoutputDirectory=bench/target/profile -Dmdep.stripVersion=true
  unzip -o -q -j bench/target/profile/async-profiler.jar linux-x64/libasyncProfiler.so -d bench/target/profile
fi
lib=$(cd bench/target/profile && pwd)/libasyncProfiler.so
# shellcheck source=bench/lib.sh
source bench/lib.sh
start_issuer 100
start_fast_epr
start_both_stores
for store in local redis; do jit_warm_up "${BASE[$store]}" Patient/p1 'Patient?_count=50'; done
threads=$(( CONNS < 2 ? 1 : 2 ))
load() { # store duration → wrk's output
  wrk -t"$threads" -c"$CONNS" -d"$2" --latency -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" "${BASE[$1]}/$PATH_"
}
snapshot() { # pid → "tid name ticks voluntary involuntary" per thread
  local d
  for d in /proc/"$1"/task/*; do
    printf '%s %s %s %s %s\n' "${d##*/}" "$(tr ' ' '_' <"$d/comm")" "$(awk '{print $14 + $15}' "$d/stat")" \
      "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$d/status")" "$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$d/status")"
  done
}
echo "fhirwall store probe — $(date -u +%FT%TZ), $(nproc) cores, $CONNS connection(s), $PATH_, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for store in local redis; do
  load "$store" "$WARMUP" >/dev/null
  redis-cli -p "$redis_port" config resetstat >/dev/null
  snapshot "${PID[$store]}" >"$work/before"; snapshot "$redis_pid" >"$work/redis-before"
  result=$(load "$store" "$DURATION")
  snapshot "${PID[$store]}" >"$work/after"; snapshot "$redis_pid" >"$work/redis-after"
  reqs=$(echo "$result" | awk '/requests in/ {print $1}')
  echo "== $store: $(echo "$result" | awk '/Requests\/sec/ {print $2}') req/s, p50 $(echo "$result" | awk '$1=="50%" {print $2}'), $reqs requests"
  python3 - "$work/before" "$work/after" "$reqs" "$(getconf CLK_TCK)" fhirwall <<'PY'
import sys
def read(p):
    return {l.split()[0]: l.split()[1:] for l in open(p)}
b, a, reqs, hz, who = read(sys.argv[1]), read(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rows = []
for tid, (name, t, v, nv) in a.items():
    t0, v0, nv0 = (int(x) for x in b.get(tid, [name, 0, 0, 0])[1:])
    dt, dv, dnv = int(t) - t0, int(v) - v0, int(nv) - nv0
    if dt or dv > reqs // 100:
        rows.append((dt, name, dv, dnv))
for dt, name, dv, dnv in sorted(rows, reverse=True):
    print(f"   {who} {name:32} cpu {dt / hz / reqs * 1e6:7.1f} us/req  woken {dv / reqs:5.2f}/req  preempted {dnv / reqs:5.2f}/req")
PY
  if [ "$store" = redis ]; then
    python3 - "$work/redis-before" "$work/redis-after" "$reqs" "$(getconf CLK_TCK)" redis-server <<'PY'
import sys
def read(p):
    return {l.split()[0]: l.split()[1:] for l in open(p)}
b, a, reqs, hz = read(sys.argv[1]), read(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = sum(int(x[1]) for x in a.values()) - sum(int(x[1]) for x in b.values())
v = sum(int(x[2]) for x in a.values()) - sum(int(x[2]) for x in b.values())
nv = sum(int(x[3]) for x in a.values()) - sum(int(x[3]) for x in b.values())
print(f"   redis-server (all threads)           cpu {t / hz / reqs * 1e6:7.1f} us/req  woken {v / reqs:5.2f}/req  preempted {nv / reqs:5.2f}/req")
PY
    redis-cli -p "$redis_port" info commandstats | tr -d '\r' | awk -F'[:,=]' -v r="$reqs" \
      '/^cmdstat_/ && $3 > 0 {printf "   redis %-18s %6.3f calls/req %8s us/call\n", substr($1, 9), $3 / r, $7}'
  fi
  loops=$(for d in /proc/"${PID[$store]}"/task/*; do if grep -q IoEv "$d/comm" 2>/dev/null; then echo "-p ${d##*/}"; fi; done | tr '\n' ' ')
  load "$store" "$((STRACE + 2))s" >"$work/strace-load" &
  wrk_pid=$!
  sleep 1
  audited=$(wc -l <"$work/audit-$store.jsonl")   # one audit record per request
  # shellcheck disable=SC2086
  timeout -s INT "$STRACE" strace -c -q $loops -o "$work/strace" || true
  sreqs=$(( $(wc -l <"$work/audit-$store.jsonl") - audited ))
  wait "$wrk_pid"
  echo "   system calls of the event loops per request (strace, ${STRACE}s, $sreqs requests):"
  awk -v r="$sreqs" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {printf "     %-16s %6.2f\n", $NF, $4 / r}' "$work/strace" | sort -k2 -nr | head -12 || true
  if [ "${PERF:-0}" = 1 ]; then  # the loops' CPU with the kernel's part (perf, cpu-clock): what async-profiler's stacks miss
    load "$store" "$((STRACE + 2))s" >"$work/perf-load" &
    wrk_pid=$!
    sleep 1
    tids=$(echo "$loops" | sed 's/-p //g; s/ $//; s/ /,/g')
    perf record -q -e cpu-clock -F 2999 -t "$tids" -o "$work/perf.data" -- sleep "$STRACE" >/dev/null 2>&1 || true
    wait "$wrk_pid"
    # perf barely slows the process: its share of wrk's requests (the audit file may have rolled over meanwhile)
    preqs=$(( $(awk '/requests in/ {print $1}' "$work/perf-load") * STRACE / (STRACE + 2) ))
    echo "   the event loops' CPU per request by where it was spent (perf, ${STRACE}s, $preqs requests, 2999 samples/s):"
    perf report -q -n -i "$work/perf.data" --no-children --sort dso 2>/dev/null \
      | awk -v r="$preqs" 'NF && $1 ~ /%$/ {printf "     %7.1f us  %s\n", $2 / 2999 / r * 1e6, $3 " " $4}' | head -6 || true
    perf report -q -n -i "$work/perf.data" --no-children --sort dso,sym 2>/dev/null \
      | awk -v r="$preqs" 'NF && $1 ~ /%$/ {printf "     %7.1f us  %s\n", $2 / 2999 / r * 1e6, $NF}' | head -12 || true
  fi
  load "$store" "$WARMUP" >/dev/null
  jcmd "${PID[$store]}" JVMTI.agent_load "$lib" "\"start,event=itimer,interval=1ms,threads\"" >/dev/null
  preqs=$(load "$store" "$DURATION" | awk '/requests in/ {print $1}')
  jcmd "${PID[$store]}" JVMTI.agent_load "$lib" "\"stop,file=$(pwd)/$out/$store.collapsed,collapsed\"" >/dev/null
  echo "$preqs" >"$out/$store.requests"
  echo "   profiled: $preqs requests, stacks in $out/$store.collapsed"
  python3 bench/profile-summary.py "$out/$store.collapsed" | sed 's/^/   /'
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
