#!/usr/bin/env bash
# The care-relationship lookup on a request's path: a cached principal (hit) and a principal seen for the
# first time (miss: the default searches answered in-process, parsed and built), each followed by the split
# of a response's patients into explained and unexplained.
#   bench/care.sh          JMH, microseconds per lookup (wall clock), about 3 minutes
#   bench/care.sh --cpu    this thread's CPU time per lookup (what a lookup costs on a shared machine), 1 minute
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f bench/target/benchmarks.jar ] || mvn -q -DskipTests package
if [ "${1:-}" = "--cpu" ]; then
  exec java -cp bench/target/benchmarks.jar org.fhirwall.bench.CareLookupCpu
fi
java -jar bench/target/benchmarks.jar CareLookupBench "$@"
