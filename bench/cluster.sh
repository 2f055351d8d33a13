#!/usr/bin/env bash
# Load benchmark of the quota store: fhirwall with the Redis store (quota.store: redis, a redis-server
# of its own on loopback) against fhirwall with the local store, in one run, in front of the same
# upstream: nginx serving fixed FHIR JSON (a Patient, a 50-entry searchset Bundle), as fast as
# possible, so that fhirwall's own cost shows. For a read and the Bundle, at 1 and 50 connections.
# Prints requests/s and p50/p99 for each, and the ratios redis/local.
#   bench/cluster.sh               (builds the jars if missing; installs nginx, wrk and redis-server
#                                   from Debian if missing)
#   DURATION=20s bench/cluster.sh  (per measurement, default 10s)
# A run in which any answer is not 2xx is reported as INVALID.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
work=$(mktemp -d /tmp/fhirwall-cluster-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk || ! need redis-server; then
  echo "installing nginx, wrk and redis-server from Debian's packages..."
  apt_get=(apt-get); [ "$(id -u)" = 0 ] || apt_get=(sudo apt-get)
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q nginx-light wrk redis-server >/dev/null 2>&1 \
    || { "${apt_get[@]}" update -q >/dev/null; DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q nginx wrk redis-server >/dev/null; }
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
{ [ -f proxy/target/fhirwall.jar ] && [ -f demo/target/fhirwall-demo.jar ]; } || mvn -q -DskipTests package
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. the demo's token issuer (the demo also starts its EPR and a fhirwall; neither is measured here)
java -Xmx512m -jar proxy/target/fhirwall.jar demo --patients 100 --keep-running --env-file "$work/env" >"$work/demo.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do [ -s "$work/env" ] && break; sleep 0.5; done
[ -s "$work/env" ] || { echo "demo did not start:"; cat "$work/demo.log"; exit 1; }
# shellcheck disable=SC1091
source "$work/env"

# 2. the upstream: nginx serving a Patient and a 50-entry searchset Bundle
up_port=$(free_port)
mkdir -p "$work/static" "$work/nginx"
python3 - "$work/static" "$up_port" <<'PY'
import json, sys
d, port = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}/fhir"
def patient(i):
    return {"resourceType": "Patient", "id": f"p{i}", "meta": {"versionId": "1"}, "active": True,
            "name": [{"family": f"Family{i}", "given": [f"Given{i}"]}], "gender": "female" if i % 2 else "male",
            "birthDate": f"19{50 + i % 50:02d}-01-{1 + i % 28:02d}",
            "address": [{"line": [f"{i} Rue de l'Exemple"], "city": "Rennes", "postalCode": "35000"}]}
json.dump(patient(1), open(f"{d}/patient.json", "w"))
bundle = {"resourceType": "Bundle", "type": "searchset", "total": 50,
          "link": [{"relation": "self", "url": f"{base}/Patient?_count=50"}],
          "entry": [{"fullUrl": f"{base}/Patient/p{i}", "resource": patient(i), "search": {"mode": "match"}} for i in range(1, 51)]}
json.dump(bundle, open(f"{d}/bundle.json", "w"))
PY
chmod 755 "$work" "$work/static" && chmod 644 "$work"/static/*.json   # nginx's workers read them as another user
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  types { }
  default_type application/fhir+json;
  server {
    listen 127.0.0.1:$up_port;
    keepalive_requests 1000000;
    location = /fhir/Patient/p1 { alias $work/static/patient.json; }
    location = /fhir/Patient { alias $work/static/bundle.json; }
  }
}
CONF
"$NGINX" -c "$work/nginx.conf"

# 3. Redis, and two fhirwall processes that differ only in their quota store
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --logfile "$work/redis.log" --daemonize no &
pids+=($!)
for _ in $(seq 1 100); do [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
mkdir -p "$work/policies" && cp policies/demo/*.yaml "$work/policies/"
sed -i '/^rate:/,$d' "$work/policies/clinician.yaml"
printf 'rate:\n  requests-per-second: 100000\n  burst: 1000000\n  concurrent: 10000\n' >> "$work/policies/clinician.yaml"
declare -A BASE
for store in local redis; do
  port=$(free_port)
  quota="{ store: local }"
  [ "$store" = redis ] && quota="{ store: redis, redis: { url: 'redis://127.0.0.1:$redis_port' } }"
  cat >"$work/$store.yaml" <<CONF
listen: 127.0.0.1:$port
upstream: { url: 'http://127.0.0.1:$up_port/fhir', max-concurrent: 1024 }
identity: { issuer: $ISSUER, audience: [fhirwall] }
policies: $work/policies
audit: { file: $work/$store-audit.jsonl }
admin: { enabled: false }
quota: $quota
CONF
  java -Xmx512m -jar proxy/target/fhirwall.jar serve --config "$work/$store.yaml" >"$work/$store.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 400); do grep -q "fhirwall ready" "$work/$store.log" && break; sleep 0.05; done
  grep -q "fhirwall ready" "$work/$store.log" || { echo "fhirwall ($store) did not start:"; cat "$work/$store.log"; exit 1; }
  BASE[$store]="http://127.0.0.1:$port/fhir"
done

for store in local redis; do
  for path in "Patient/p1" "Patient?_count=50"; do
    status=$(curl -s -o "$work/check" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "${BASE[$store]}/$path")
    [ "$status" = 200 ] || { echo "fhirwall ($store) answered $status to $path:"; head -c 600 "$work/check"; echo
      grep -i "inspect" "$work/$store.log" | tail -3; exit 1; }
  done
done

declare -A RPS P50 P99 NON2XX
measure() { # name base path conns
  local name=$1 base=$2 path=$3 conns=$4 threads=$(( $4 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$conns" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "$base/$path" >/dev/null
  local out
  out=$(wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$base/$path")
  RPS[$name]=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  P50[$name]=$(echo "$out" | awk '$1=="50%" {print $2}')
  P99[$name]=$(echo "$out" | awk '$1=="99%" {print $2}')
  NON2XX[$name]=$(echo "$out" | awk '/Non-2xx or 3xx responses/ {print $5}')
  NON2XX[$name]=${NON2XX[$name]:-0}
}
ms() { echo "$1" | awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; printf "%.3f", v}'; }

echo "fhirwall quota store bench — $(date -u +%FT%TZ), $(nproc) cores, ${DURATION} per run; wrk, nginx (static upstream), redis-server and both fhirwall processes share this machine"
printf "%-7s %-6s %-6s %10s %10s %10s %8s\n" shape conns store "req/s" "p50 ms" "p99 ms" non-2xx
for shape in ${SHAPES:-read search}; do
  path="Patient/p1"; [ "$shape" = search ] && path="Patient?_count=50"
  for conns in ${CONNS:-1 50}; do
    for store in local redis; do
      key="$shape-$conns-$store"
      measure "$key" "${BASE[$store]}" "$path" "$conns"
      printf "%-7s %-6s %-6s %10s %10s %10s %8s\n" "$shape" "$conns" "$store" "${RPS[$key]}" "$(ms "${P50[$key]}")" "$(ms "${P99[$key]}")" "${NON2XX[$key]}"
    done
  done
done
echo
echo "redis store against local store (budget: >= 0.90x throughput, p99 <= +1 ms):"
invalid=0
for shape in ${SHAPES:-read search}; do
  for conns in ${CONNS:-1 50}; do
    r="$shape-$conns-redis"; l="$shape-$conns-local"
    python3 - "$shape" "$conns" "${RPS[$r]}" "${RPS[$l]}" "$(ms "${P99[$r]}")" "$(ms "${P99[$l]}")" <<'PY'
import sys
shape, conns, r, l, r99, l99 = sys.argv[1:]
r, l, r99, l99 = map(float, (r, l, r99, l99))
print(f"  {shape:6} c={conns:>2}: redis/local {r/l:5.2f}x  p99 {r99-l99:+.3f} ms")
PY
    for k in "$r" "$l"; do [ "${NON2XX[$k]}" = 0 ] || invalid=1; done
  done
done
echo "  keys in Redis after the run: $(redis-cli -p "$redis_port" dbsize); Redis's own time per call (INFO commandstats):"
redis-cli -p "$redis_port" info commandstats | tr -d '\r' \
  | awk -F'[:,=]' '/^cmdstat_/ {printf "    %-10s %9s calls %8s us/call\n", substr($1, 9), $3, $7}'
echo "  load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$invalid" = 1 ]; then echo "INVALID: some answers were not 2xx (see the non-2xx column)"; exit 1; fi
