#!/usr/bin/env bash
# Garbage collectors side by side, under SUSTAINED load: one fhirwall process per set of JVM flags, all in
# front of the fast EPR (nginx serving a fixed Patient and a 50-entry searchset), each warmed up, then
# loaded in turn at 50 connections, ROUNDS times, for a read and the 50-entry search. A short run (bench/run.sh:
# 10 s a point) may end before the old generation fills; a process that serves for minutes pays its full
# collections too, so each process here keeps its own GC log over every round and the table gives, per round:
# req/s, p50, p99, and the pauses of that round (count, time in all, the longest, full collections).
#
#   bench/collectors.sh                         (the README's production flags against the same with G1)
#   ROUNDS=4 DURATION=30s bench/collectors.sh   (defaults: 3 rounds of 30 s per shape and process)
#   COLLECTORS='A;B;C' bench/collectors.sh      (named sets of flags, NAME=FLAGS, separated by ';')
# The heap flags shared by every set (JAVA_OPTS_COMMON) are the production ones but the collector.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-3s}
JAVA_OPTS_COMMON=${JAVA_OPTS_COMMON:--Xms256m -Xmx256m -XX:MaxDirectMemorySize=128m -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled}
COLLECTORS=${COLLECTORS:-parallel=-XX:+UseParallelGC;g1=-XX:+UseG1GC}
# shellcheck source=bench/lib.sh
source bench/lib.sh
start_issuer 100
start_fast_epr
declare -A BASE_OF PID_OF
names=()
IFS=';' read -r -a sets <<<"$COLLECTORS"
for set in "${sets[@]}"; do
  name=${set%%=*}
  names+=("$name")
  JAVA_OPTS="$JAVA_OPTS_COMMON ${set#*=} -Xlog:gc:file=$work/gc-$name.log"
  start_fhirwall "$name" "$FAST_BASE"
  BASE_OF[$name]=$PROXY_BASE
  PID_OF[$name]=$FHIRWALL_PID
done
for name in "${names[@]}"; do jit_warm_up "${BASE_OF[$name]}" "Patient/p1" "Patient?_count=50"; done

pauses() { # gc log, first line to read → "count total-ms max-ms full-count" of the pauses from that line on
  tail -n +"$2" "$1" | python3 -c '
import re, sys
times, full = [], 0
for line in sys.stdin:
    m = re.search(r"Pause .* ([0-9.]+)ms$", line.strip())
    if m:
        times.append(float(m.group(1)))
        full += "Pause Full" in line
print(len(times), round(sum(times)), round(max(times, default=0), 1), full)'
}
echo "fhirwall collectors — $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $DURATION per point;"
echo "common flags: $JAVA_OPTS_COMMON"
for set in "${sets[@]}"; do echo "  ${set%%=*}: ${set#*=}"; done
printf "%-6s %-18s %-10s %10s %10s %10s %8s %10s %9s %6s\n" round path flags "req/s" "p50 ms" "p99 ms" pauses "paused ms" "max ms" full
for round in $(seq 1 "$ROUNDS"); do
  for path in "Patient/p1" "Patient?_count=50"; do
    for name in "${names[@]}"; do
      log=$work/gc-$name.log
      wrk -t2 -c50 -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "${BASE_OF[$name]}/$path" >/dev/null
      from=$(( $(wc -l <"$log") + 1 ))   # the pauses of the measurement only
      out=$(wrk -t2 -c50 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "${BASE_OF[$name]}/$path")
      read -r n total longest full < <(pauses "$log" "$from")
      printf "%-6s %-18s %-10s %10s %10s %10s %8s %10s %9s %6s\n" "$round" "$path" "$name" \
        "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" "$(ms "$(echo "$out" | awk '$1=="50%" {print $2}')")" \
        "$(ms "$(echo "$out" | awk '$1=="99%" {print $2}')")" "$n" "$total" "$longest" "$full"
      if echo "$out" | grep -q "Non-2xx"; then echo "INVALID: $name answered non-2xx: $out"; exit 1; fi
    done
  done
done
for name in "${names[@]}"; do
  echo "$name: RSS after the load $(( $(ps -o rss= -p "${PID_OF[$name]}") / 1024 )) MB; whole run: $(pauses "$work/gc-$name.log" 1 \
    | awk '{print $1 " pauses, " $2 " ms, longest " $3 " ms, " $4 " full collections"}')"
done
