#!/bin/sh
# Loads the walkthrough's patients into the EPR (docker/compose.yaml's epr-seed; the tests run it
# too): waits until the EPR answers /metadata, then POSTs walkthrough-bundle.json, a transaction
# of PUTs with fixed ids, so loading it twice changes nothing: 50 patients named Walker (more than
# the 40 a physician may see in an hour: the walkthrough shows the limit) and walk-01's chart.
#   seed.sh FHIR_BASE_URL
set -eu
base="${1:?usage: seed.sh FHIR_BASE_URL}"
dir=$(dirname "$0")
tries=0
until curl --fail --silent --output /dev/null --max-time 5 "$base/metadata"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 120 ]; then
    echo "seed: the EPR at $base did not answer within 4 minutes" >&2
    exit 1
  fi
  sleep 2
done
curl --fail --silent --show-error --output /dev/null --max-time 120 -X POST \
  -H 'Content-Type: application/fhir+json' --data-binary "@$dir/walkthrough-bundle.json" "$base"
echo "seed: walkthrough patients loaded into $base"
