#!/usr/bin/env bash
# JMH benchmark of fhirwall's response inspector against HAPI FHIR's full parse of the same Bundle
# (1, 50 and 1,000 entries, JSON and XML). Prints MB/s, the ratio and patients/s. About 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f bench/target/benchmarks.jar ] || mvn -q -DskipTests package
java -cp bench/target/benchmarks.jar org.fhirwall.bench.InspectorReport "$@"
