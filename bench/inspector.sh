#!/usr/bin/env bash
# JMH benchmark of fhirwall's response inspector against HAPI FHIR's full parse of the same Bundle
# (1, 50 and 1,000 entries, JSON and XML). Prints MB/s, the ratio and patients/s. About 5 minutes.
#   bench/inspector.sh [JMH options]     JMH, wall-clock throughput (the reference figures)
#   bench/inspector.sh --cpu [rounds] [json|xml]  the same comparison in CPU time of the measuring thread, the two
#                                        sides interleaved round by round: steadier on a loaded machine
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f bench/target/benchmarks.jar ] || mvn -q -DskipTests package
if [ "${1:-}" = --cpu ]; then
  shift
  exec java -cp bench/target/benchmarks.jar org.fhirwall.bench.InspectorCpuReport "$@"
fi
exec java -cp bench/target/benchmarks.jar org.fhirwall.bench.InspectorReport "$@"
