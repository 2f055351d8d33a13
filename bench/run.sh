#!/usr/bin/env bash
# Load benchmark, in one run on this machine, for a read and a 50-entry search Bundle at 1 and 50
# connections (wrk): the EPR directly, nginx as a plain reverse proxy, and fhirwall (`serve`, its own
# process, everything on: token check, classification, policy, inspection, quota charge, audit).
#
#   1. against a FAST EPR — nginx serving fixed FHIR JSON files (a Patient, a 50-entry searchset), so
#      that fhirwall's own cost shows (a slow EPR hides it);
#   2. against the demo's EPR (HAPI FHIR over synthetic patients; about 70 searches/s): the second table.
#
#   bench/run.sh                       (builds the jars if missing; installs nginx and wrk from Debian if missing)
#   DURATION=20s bench/run.sh          (per measurement, default 10s; WARMUP default 5s)
#   JAVA_OPTS='-Xmx256m' bench/run.sh  (fhirwall's JVM flags; default: the README's production launch flags)
#   DEMO_EPR=0 bench/run.sh            (skip the second table)
# Prints req/s, p50, p99 and non-2xx per run, the ratios against nginx and direct, fhirwall's CPU
# seconds per 1,000 requests and its RSS. A run in which any answer is not 2xx is INVALID (a fast
# refusal is not throughput).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
DEMO_EPR=${DEMO_EPR:-1}
# The README's production launch flags (section "Running it in front of your EPR").
JAVA_OPTS=${JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC -XX:MaxDirectMemorySize=128m -XX:+ExitOnOutOfMemoryError}
work=$(mktemp -d /tmp/fhirwall-bench.XXXXXX)
chmod 755 "$work"   # nginx workers (nobody) read the fixed files
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for f in "$work"/nginx-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
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
{ [ -f proxy/target/fhirwall.jar ] && [ -f demo/target/fhirwall-demo.jar ]; } || mvn -q -DskipTests package
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The demo: its token issuer (fhirwall trusts it), a clinician token, and its EPR for the second table.
java -Xmx1g -jar proxy/target/fhirwall.jar demo --patients 2000 --keep-running --env-file "$work/env" >"$work/demo.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do [ -s "$work/env" ] && break; sleep 0.5; done
[ -s "$work/env" ] || { echo "demo did not start:"; cat "$work/demo.log"; exit 1; }
# shellcheck disable=SC1091
source "$work/env"

# nginx: the fast EPR (fixed files) and, in front of any EPR, a plain reverse proxy.
start_nginx() { # name conf-body
  local name=$1 body=$2
  mkdir -p "$work/nginx-$name"
  cat >"$work/nginx-$name.conf" <<CONF
worker_processes auto;
pid $work/nginx-$name.pid;
error_log $work/nginx-$name/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-$name; proxy_temp_path $work/nginx-$name; fastcgi_temp_path $work/nginx-$name;
  uwsgi_temp_path $work/nginx-$name; scgi_temp_path $work/nginx-$name;
  $body
}
CONF
  "$NGINX" -c "$work/nginx-$name.conf"
}
proxy_conf() { # port upstream-host:port
  echo "upstream epr { server $2; keepalive 64; }
  server { listen 127.0.0.1:$1;
    location / { proxy_pass http://epr; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering on;
                 proxy_buffer_size 64k; proxy_buffers 32 64k; proxy_busy_buffers_size 128k; proxy_max_temp_file_size 0; } }"
}

fast_port=$(free_port)
FAST_BASE="http://127.0.0.1:$fast_port/fhir"
python3 bench/static-fhir.py "$FAST_BASE" "$work/static"
start_nginx fast "server { listen 127.0.0.1:$fast_port; root $work/static; default_type application/fhir+json;
    location = /fhir/Patient/p1 { try_files /fhir/patient.json =404; }
    location = /fhir/Patient { try_files /fhir/search.json =404; } }"
fast_proxy_port=$(free_port)
start_nginx fast-proxy "$(proxy_conf "$fast_proxy_port" "127.0.0.1:$fast_port")"
demo_proxy_port=$(free_port)
start_nginx demo-proxy "$(proxy_conf "$demo_proxy_port" "$(echo "$EPR_BASE" | sed -E 's#http://([^/]+)/.*#\1#')")"

# fhirwall `serve`, once per EPR, with the demo's clinician policy and a rate no load here reaches.
mkdir -p "$work/policies" && cp policies/demo/*.yaml "$work/policies/"
sed -i '/^rate:/,$d' "$work/policies/clinician.yaml"
printf 'rate:\n  requests-per-second: 100000\n  burst: 1000000\n  concurrent: 10000\n' >> "$work/policies/clinician.yaml"
FHIRWALL_PID=
start_fhirwall() { # name upstream
  local name=$1 upstream=$2 port
  port=$(free_port)
  cat >"$work/fhirwall-$name.yaml" <<CONF
listen: 127.0.0.1:$port
upstream: { url: $upstream, max-concurrent: 1024, per-principal: { max-concurrent: 1024 } }
identity: { issuer: $ISSUER, audience: [fhirwall], clients: [fhirwall-web] }
policies: $work/policies
audit: { file: $work/audit-$name.jsonl }
admin: { enabled: false }
CONF
  local start
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  java $JAVA_OPTS -jar proxy/target/fhirwall.jar serve --config "$work/fhirwall-$name.yaml" >"$work/serve-$name.log" 2>&1 &
  FHIRWALL_PID=$!
  pids+=($FHIRWALL_PID)
  for _ in $(seq 1 400); do grep -q "fhirwall ready" "$work/serve-$name.log" && break; sleep 0.05; done
  grep -q "fhirwall ready" "$work/serve-$name.log" || { echo "fhirwall did not start:"; cat "$work/serve-$name.log"; exit 1; }
  SERVE_READY_MS=$(( ($(date +%s%N) - start) / 1000000 ))
  PROXY_BASE="http://127.0.0.1:$port/fhir"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A RPS P50 P99 NON2XX REQS CPU
measure() { # key base path conns [pid whose CPU is counted]
  local key=$1 base=$2 path=$3 conns=$4 pid=${5:-} threads=$(( $4 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$conns" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" "$base/$path" >/dev/null
  local out before=0 after=0
  [ -n "$pid" ] && before=$(cpu_ticks "$pid")
  out=$(wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" "$base/$path")
  [ -n "$pid" ] && after=$(cpu_ticks "$pid")
  RPS[$key]=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  REQS[$key]=$(echo "$out" | awk '/requests in/ {print $1}')
  P50[$key]=$(echo "$out" | awk '$1=="50%" {print $2}')
  P99[$key]=$(echo "$out" | awk '$1=="99%" {print $2}')
  NON2XX[$key]=$(echo "$out" | awk '/Non-2xx or 3xx responses/ {print $5}')
  NON2XX[$key]=${NON2XX[$key]:-0}
  CPU[$key]=$(( after - before ))
}
ms() { # wrk latency (1.23ms, 850.00us, 1.02s) → milliseconds
  echo "$1" | awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; printf "%.3f", v}'
}

invalid=0
table() { # title direct-base nginx-base read-path search-path
  local title=$1 direct=$2 nginx=$3 read=$4 search=$5 hz
  hz=$(getconf CLK_TCK)
  echo
  echo "== $title"
  printf "%-8s %-6s %-9s %10s %10s %10s %8s %14s\n" shape conns via "req/s" "p50 ms" "p99 ms" non-2xx "cpu s/1000req"
  for shape in read search; do
    path=$read; [ "$shape" = search ] && path=$search
    for conns in 1 50; do
      for via in direct nginx fhirwall; do
        base=$direct; pid=; [ "$via" = nginx ] && base=$nginx; [ "$via" = fhirwall ] && { base=$PROXY_BASE; pid=$FHIRWALL_PID; }
        key="$title-$shape-$conns-$via"
        measure "$key" "$base" "$path" "$conns" "$pid"
        cpu=""
        [ -n "$pid" ] && cpu=$(awk -v t="${CPU[$key]}" -v r="${REQS[$key]}" -v hz="$hz" 'BEGIN {printf "%.3f", t / hz / r * 1000}')
        printf "%-8s %-6s %-9s %10s %10s %10s %8s %14s\n" "$shape" "$conns" "$via" "${RPS[$key]}" "$(ms "${P50[$key]}")" \
          "$(ms "${P99[$key]}")" "${NON2XX[$key]}" "$cpu"
        [ "${NON2XX[$key]}" = 0 ] || invalid=1
      done
    done
  done
  echo "ratios and added latency:"
  for shape in read search; do
    for conns in 1 50; do
      f="$title-$shape-$conns-fhirwall"; d="$title-$shape-$conns-direct"; n="$title-$shape-$conns-nginx"
      python3 - "$shape" "$conns" "${RPS[$f]}" "${RPS[$d]}" "${RPS[$n]}" "$(ms "${P50[$f]}")" "$(ms "${P50[$d]}")" \
        "$(ms "${P99[$f]}")" "$(ms "${P99[$n]}")" <<'PY'
import sys
shape, conns, f, d, n, f50, d50, f99, n99 = sys.argv[1:]
f, d, n, f50, d50, f99, n99 = map(float, (f, d, n, f50, d50, f99, n99))
print(f"  {shape:6} c={conns:>2}: fhirwall/nginx {f/n:5.2f}x  fhirwall/direct {f/d:5.2f}x  "
      f"p50 {f50-d50:+.3f} ms over direct  p99 {f99-n99:+.3f} ms vs nginx")
PY
    done
  done
  rss=$(ps -o rss= -p "$FHIRWALL_PID" 2>/dev/null || echo 0)
  echo "fhirwall RSS after the load: $(( rss / 1024 )) MB; serve ready ${SERVE_READY_MS} ms after launch; JVM flags: $JAVA_OPTS"
}

echo "fhirwall bench — $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${DURATION} per run;"
echo "wrk, the EPR, nginx and fhirwall share this machine. fhirwall: token check, classification, policy,"
echo "inspection, quota charge and audit, the demo's clinician policy (limits the load never reaches)."
start_fhirwall fast "$FAST_BASE"
table "fast EPR (nginx, fixed FHIR JSON)" "$FAST_BASE" "http://127.0.0.1:$fast_proxy_port/fhir" "Patient/p1" "Patient?_count=50"
kill "$FHIRWALL_PID" && wait "$FHIRWALL_PID" 2>/dev/null || true
echo "audit written for this table: $(du -k "$work/audit-fast.jsonl" | cut -f1) KB"

if [ "$DEMO_EPR" = 1 ]; then
  start_fhirwall demo "$EPR_BASE"
  read_id=$(curl -sf -H "Authorization: Bearer $TOKEN" "$PROXY_BASE/Patient?_count=1&_elements=id" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["entry"][0]["resource"]["id"])')
  table "demo EPR (HAPI FHIR, 2,000 patients)" "$EPR_BASE" "http://127.0.0.1:$demo_proxy_port/fhir" "Patient/$read_id" "Patient?_count=50"
fi
if [ "$invalid" = 1 ]; then echo "INVALID: some answers were not 2xx (see the non-2xx column)"; exit 1; fi
