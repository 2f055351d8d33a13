#!/usr/bin/env bash
# Load benchmark: the EPR directly, through fhirwall, and through nginx as a plain reverse proxy,
# in one run on this machine, for a read and for a 50-entry search Bundle, at 1 and 50 connections.
# Prints requests/s and p50/p99 latency for each, and the ratios fhirwall/direct and fhirwall/nginx.
#   bench/run.sh                 (builds the jars if missing; installs nginx and wrk from Debian if missing)
#   DURATION=20s bench/run.sh    (seconds per measurement, default 10s)
# A run in which any answer is not 2xx is reported as INVALID (a fast refusal is not throughput).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
work=$(mktemp -d /tmp/fhirwall-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk; then
  echo "installing nginx and wrk from Debian's packages..."
  apt_get=(apt-get); [ "$(id -u)" = 0 ] || apt_get=(sudo apt-get)
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q nginx-light wrk >/dev/null 2>&1 \
    || DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q nginx wrk >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
# `demo` loads the demo module's jar, demo/target/fhirwall-demo.jar
{ [ -f proxy/target/fhirwall.jar ] && [ -f demo/target/fhirwall-demo.jar ]; } || mvn -q -DskipTests package

# 1. the EPR (HAPI FHIR over synthetic patients), the demo token issuer and fhirwall with the demo policy
java -Xmx1g -jar proxy/target/fhirwall.jar demo --patients 2000 --keep-running --env-file "$work/env" >"$work/demo.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do [ -s "$work/env" ] && break; sleep 0.5; done
[ -s "$work/env" ] || { echo "demo did not start:"; cat "$work/demo.log"; exit 1; }
# shellcheck disable=SC1091
source "$work/env"

# fhirwall itself runs as its own process (`serve`), in front of the demo's EPR, trusting the demo's issuer
fw_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/policies" && cp policies/demo/*.yaml "$work/policies/"
# The bench measures throughput, not refusals: the same demo policy, with a rate no load here reaches.
sed -i '/^rate:/,$d' "$work/policies/clinician.yaml"
printf 'rate:\n  requests-per-second: 100000\n  burst: 1000000\n  concurrent: 10000\n' >> "$work/policies/clinician.yaml"
cat >"$work/fhirwall.yaml" <<CONF
listen: 127.0.0.1:$fw_port
upstream: { url: $EPR_BASE }
identity: { issuer: $ISSUER, audience: [fhirwall] }
policies: $work/policies
audit: { file: $work/audit.jsonl }
admin: { enabled: false }
CONF
serve_start=$(date +%s%N)
java -Xmx512m -jar proxy/target/fhirwall.jar serve --config "$work/fhirwall.yaml" >"$work/serve.log" 2>&1 &
FHIRWALL_PID=$!
pids+=($FHIRWALL_PID)
for _ in $(seq 1 400); do grep -q "fhirwall ready" "$work/serve.log" && break; sleep 0.05; done
grep -q "fhirwall ready" "$work/serve.log" || { echo "fhirwall did not start:"; cat "$work/serve.log"; exit 1; }
SERVE_READY_MS=$(( ($(date +%s%N) - serve_start) / 1000000 ))
PROXY_BASE="http://127.0.0.1:$fw_port/fhir"

# 2. nginx as a plain reverse proxy in front of the same EPR
epr_hostport=$(echo "$EPR_BASE" | sed -E 's#http://([^/]+)/.*#\1#')
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  upstream epr { server $epr_hostport; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / { proxy_pass http://epr; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on;
                 proxy_buffer_size 64k; proxy_buffers 32 64k; proxy_busy_buffers_size 128k; proxy_max_temp_file_size 0; }
  }
}
CONF
"$NGINX" -c "$work/nginx.conf"
NGINX_BASE="http://127.0.0.1:$nginx_port/fhir"

READ="Patient/$(curl -sf -H "Authorization: Bearer $TOKEN" "$PROXY_BASE/Patient?_count=1&_elements=id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entry"][0]["resource"]["id"])')"
SEARCH="Patient?_count=50"

declare -A RPS P50 P99 NON2XX
measure() { # name base path conns
  local name=$1 base=$2 path=$3 conns=$4 threads=$(( $4 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$conns" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" "$base/$path" >/dev/null
  local out
  out=$(wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" "$base/$path")
  RPS[$name]=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  P50[$name]=$(echo "$out" | awk '$1=="50%" {print $2}')
  P99[$name]=$(echo "$out" | awk '$1=="99%" {print $2}')
  NON2XX[$name]=$(echo "$out" | awk '/Non-2xx or 3xx responses/ {print $5}')
  NON2XX[$name]=${NON2XX[$name]:-0}
}
ms() { # wrk latency (e.g. 1.23ms, 850.00us, 1.02s) → milliseconds
  echo "$1" | awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; printf "%.3f", v}'
}

echo "fhirwall bench — $(date -u +%FT%TZ), $(nproc) cores, ${DURATION} per run; load generator, EPR, nginx and fhirwall share this machine"
echo "fhirwall: token check + classification + policy + inspection + quota + audit, demo clinician policy"
echo "fhirwall serve: ready ${SERVE_READY_MS} ms after launch"
printf "%-8s %-6s %-5s %10s %10s %10s %8s\n" shape conns via "req/s" "p50 ms" "p99 ms" non-2xx
for shape in read search; do
  path=$READ; [ "$shape" = search ] && path=$SEARCH
  for conns in 1 50; do
    for via in direct nginx fhirwall; do
      base=$EPR_BASE; [ "$via" = nginx ] && base=$NGINX_BASE; [ "$via" = fhirwall ] && base=$PROXY_BASE
      key="$shape-$conns-$via"
      measure "$key" "$base" "$path" "$conns"
      printf "%-8s %-6s %-5s %10s %10s %10s %8s\n" "$shape" "$conns" "$via" "${RPS[$key]}" "$(ms "${P50[$key]}")" "$(ms "${P99[$key]}")" "${NON2XX[$key]}"
    done
  done
done
echo
echo "ratios (throughput) and added latency:"
invalid=0
for shape in read search; do
  for conns in 1 50; do
    f="$shape-$conns-fhirwall"; d="$shape-$conns-direct"; n="$shape-$conns-nginx"
    python3 - "$shape" "$conns" "${RPS[$f]}" "${RPS[$d]}" "${RPS[$n]}" "$(ms "${P50[$f]}")" "$(ms "${P50[$d]}")" "$(ms "${P99[$f]}")" "$(ms "${P99[$n]}")" <<'PY'
import sys
shape, conns, f, d, n, f50, d50, f99, n99 = sys.argv[1:]
f, d, n, f50, d50, f99, n99 = map(float, (f, d, n, f50, d50, f99, n99))
print(f"  {shape:6} c={conns:>2}: fhirwall/direct {f/d:5.2f}x  fhirwall/nginx {f/n:5.2f}x  "
      f"p50 +{f50-d50:.3f} ms over direct  p99 {f99-n99:+.3f} ms vs nginx")
PY
    for k in "$f" "$d" "$n"; do [ "${NON2XX[$k]}" = 0 ] || invalid=1; done
  done
done
rss=$(ps -o rss= -p "$FHIRWALL_PID" 2>/dev/null || echo 0)
echo "  fhirwall RSS after the run: $(( rss / 1024 )) MB (serve, -Xmx512m)"
if [ "$invalid" = 1 ]; then echo "INVALID: some answers were not 2xx (see the non-2xx column)"; exit 1; fi
