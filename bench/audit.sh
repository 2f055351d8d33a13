#!/usr/bin/env bash
# JMH benchmark of the audit trail: bytes per record, records/s to serialise one, and records/s
# through the writer into a hash-chained, checkpointed file (closed, so written and synced), for a
# read and a 50-patient search. About 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f bench/target/benchmarks.jar ] || mvn -q -DskipTests package
java -cp bench/target/benchmarks.jar org.fhirwall.bench.AuditReport "$@"
