#!/usr/bin/env bash
# Where fhirwall's CPU goes under load: fhirwall `serve` in front of the fast EPR (nginx serving a fixed
# Patient and a 50-entry searchset), warmed up with wrk, then profiled with async-profiler (CPU time of
# every thread, kernel included: itimer) while wrk keeps the load on. Writes a flame graph (HTML) and the
# collapsed stacks to bench/target/profile/, and prints the share of each stage of the request's way
# (bench/profile-summary.py). Findings: bench/README.md ("Where the CPU goes").
#
#   bench/profile.sh                   (the read and the 50-entry search, 50 connections)
#   CONNS=1 DURATION=30s WARMUP=30s bench/profile.sh
#   SHAPES=read bench/profile.sh       (the read only)
#   STORE=redis bench/profile.sh       (quota.store: redis, on a redis-server of its own on loopback; prints
#                                       the Redis calls made during the profiled run, INFO commandstats)
#   EVENT=alloc bench/profile.sh       (where the heap is allocated instead: bytes, not CPU time; the stage
#                                       shares are of the bytes the request's threads allocate)
# async-profiler comes from Maven Central (tools.profiler:async-profiler); Linux x64 only.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-30s}
CONNS=${CONNS:-50}
EVENT=${EVENT:-itimer}
AP_VERSION=4.2
out=bench/target/profile
mkdir -p "$out"
lib=$out/libasyncProfiler.so
if [ ! -f "$lib" ]; then
  mvn -q dependency:copy -Dartifact=tools.profiler:async-profiler:$AP_VERSION -DoutputDirectory="$out" -Dmdep.stripVersion=true
  unzip -o -q -j "$out/async-profiler.jar" linux-x64/libasyncProfiler.so -d "$out"
fi
lib=$(cd "$out" && pwd)/libasyncProfiler.so
[ "${STORE:-local}" = redis ] && EXTRA_PACKAGES=redis-server
# shellcheck source=bench/lib.sh
source bench/lib.sh
start_issuer 100
start_fast_epr
quota=""
if [ "${STORE:-local}" = redis ]; then
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
    --logfile "$work/redis.log" --daemonize no &
  pids+=($!)
  for _ in $(seq 1 100); do [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
  quota="quota: { store: redis, redis: { url: 'redis://127.0.0.1:$redis_port' } }"
fi
start_fhirwall profiled "$FAST_BASE" "$quota"
threads=$(( CONNS < 2 ? 1 : 2 ))
load() { # path duration
  wrk -t"$threads" -c"$CONNS" -d"$2" --latency -H "Authorization: Bearer $TOKEN" "$PROXY_BASE/$1" \
    | grep -E "requests in|Requests/sec|  50%|  99%|Non-2xx" | sed 's/^/    /'
}
redis_calls() { # the Redis calls of the profiled run (INFO commandstats since the warm-up), when STORE=redis
  [ -n "${redis_port:-}" ] || return 0
  echo "    Redis calls during it (INFO commandstats; divide by the requests above for calls per request):"
  redis-cli -p "$redis_port" info commandstats | tr -d '\r' \
    | awk -F'[:,=]' '/^cmdstat_/ {printf "      %-10s %9s calls %8s us/call\n", substr($1, 9), $3, $7}'
}
agent() { jcmd "$FHIRWALL_PID" JVMTI.agent_load "$lib" "\"$1\"" >/dev/null; }
# At few connections a warm-up of the same load leaves the JIT compiler busy well into the profiled run
# (at 1 connection, half of all samples in a 20 s run): compile the hot code at 50 connections first.
[ "$CONNS" -lt 50 ] && jit_warm_up "$PROXY_BASE" Patient/p1 'Patient?_count=50'
for shape in ${SHAPES:-read search}; do
  path=Patient/p1; [ "$shape" = search ] && path='Patient?_count=50'
  echo "== $shape ($path), $CONNS connections: warm-up $WARMUP, then profiled for $DURATION"
  load "$path" "$WARMUP" >/dev/null
  [ -n "${redis_port:-}" ] && redis-cli -p "$redis_port" config resetstat >/dev/null
  if [ "$EVENT" = alloc ]; then
    agent "start,event=alloc,threads"
  else
    agent "start,event=itimer,interval=1ms,threads"
  fi
  load "$path" "$DURATION"
  redis_calls
  weights=""; [ "$EVENT" = alloc ] && weights=",total"   # bytes allocated rather than samples
  agent "dump,file=$(pwd)/$out/$shape.collapsed,collapsed$weights"
  agent "stop,file=$(pwd)/$out/$shape.html,flamegraph"
  python3 bench/profile-summary.py "$out/$shape.collapsed" | sed 's/^/    /'
  echo "    flame graph: $out/$shape.html"
done
