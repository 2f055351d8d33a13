#!/usr/bin/env bash
# Two builds of fhirwall side by side, in one run: the working tree's jar against the jar of another
# commit (built in a temporary git worktree), both in front of the fast EPR (nginx serving a fixed
# Patient and a 50-entry searchset), each warmed up, then measured in turn at 50 connections for a
# read and the 50-entry search, ROUNDS times: req/s, p50, p99 and fhirwall's CPU per request. What a
# change did, without the machine's drift between two separate runs of bench/run.sh.
#
#   bench/compare.sh COMMIT             (e.g. bench/compare.sh a07ac83; ROUNDS=3, DURATION=8s, WARMUP=3s)
# The production launch flags apply to both (JAVA_OPTS, see bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
base_commit=${1:?usage: bench/compare.sh COMMIT}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-3s}
[ -f proxy/target/fhirwall.jar ] || mvn -q -DskipTests package
other=$(mktemp -d /tmp/fhirwall-compare.XXXXXX)
git worktree add -q --detach "$other" "$base_commit"
trap 'git worktree remove --force "$other" >/dev/null 2>&1 || true' EXIT
(cd "$other" && mvn -q -DskipTests package -pl proxy -am)
here=$(pwd)
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap 'cleanup; git -C "$here" worktree remove --force "$other" >/dev/null 2>&1 || true' EXIT
start_issuer 100
start_fast_epr
cd "$other"   # start_fhirwall runs proxy/target/fhirwall.jar of the current directory
start_fhirwall before "$FAST_BASE"
BEFORE=$PROXY_BASE
BEFORE_PID=$FHIRWALL_PID
cd "$here"
start_fhirwall after "$FAST_BASE"
AFTER=$PROXY_BASE
AFTER_PID=$FHIRWALL_PID
for b in "$BEFORE" "$AFTER"; do jit_warm_up "$b" "Patient/p1" "Patient?_count=50"; done
hz=$(getconf CLK_TCK)
echo "fhirwall compare — $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); before: $base_commit, after: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
printf "%-6s %-18s %-7s %10s %10s %10s %12s\n" round path build "req/s" "p50 ms" "p99 ms" "us CPU/req"
for round in $(seq 1 "$ROUNDS"); do
  for path in "Patient/p1" "Patient?_count=50"; do
    for build in before after; do
      base=$BEFORE; pid=$BEFORE_PID; [ "$build" = after ] && { base=$AFTER; pid=$AFTER_PID; }
      key="$build-$path-$round"
      measure "$key" "$base" "$path" 50 "$pid"
      cpu=$(awk -v t="${CPU[$key]}" -v r="${REQS[$key]}" -v hz="$hz" 'BEGIN {printf "%.1f", t / hz / r * 1e6}')
      printf "%-6s %-18s %-7s %10s %10s %10s %12s\n" "$round" "$path" "$build" "${RPS[$key]}" "$(ms "${P50[$key]}")" \
        "$(ms "${P99[$key]}")" "$cpu"
    done
  done
done
