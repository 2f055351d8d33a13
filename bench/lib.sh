# Shared by the load benchmarks (run.sh, profile.sh, cluster.sh): sourced, not run.
# Gives: $work (a temporary directory, removed on exit, with everything started here stopped),
# need/free_port, the tools (nginx, wrk, and whatever else EXTRA_PACKAGES names) installed from
# Debian's packages when missing, the jars built when missing, and:
#   start_issuer PATIENTS          the demo (its token issuer, a clinician $TOKEN, its EPR at $EPR_BASE)
#   start_nginx NAME CONF-BODY     an nginx of its own
#   start_fast_epr                 nginx serving a fixed Patient and 50-entry searchset: $FAST_BASE
#   proxy_conf PORT HOST:PORT      nginx as a plain reverse proxy (the baseline)
#   start_fhirwall NAME UPSTREAM [EXTRA-YAML] [POLICIES-DIR]  fhirwall `serve` with $JAVA_OPTS: $PROXY_BASE,
#                                  $FHIRWALL_PID (policies: the bench's below unless POLICIES-DIR)
#   start_both_stores              redis-server ($redis_port, $redis_pid) and fhirwall with each quota store in front
#                                  of $FAST_BASE: BASE[local|redis], PID[local|redis]
#   quota_of local|redis           the deployment file's quota line for that store (Redis: the one on $redis_port)
#   start_refusing_stores          after start_both_stores: two more, on the same redis-server, whose clinician refuses
#                                  at its limit (at-limit.action: refuse): BASE[local-refuse|redis-refuse], PID[...]
#   measure KEY BASE PATH CONNS ["PID..."]  a warm-up, then wrk: RPS/P50/P99/NON2XX/REQS[KEY], and CPU[KEY]
#                                  (clock ticks of the PIDs during the measurement), MACHINE[KEY] (busy ticks
#                                  of the whole machine), AUDIT[KEY] (ticks of the first PID's audit writer
#                                  thread, fhirwall-audit; per_thousand TICKS REQS gives
#                                  CPU seconds per 1,000 requests)
#                                  GC[KEY]: the first PID's garbage collections during the measurement, when it
#                                  is a JVM: "pauses milliseconds" (jstat: young + full collections, their time)
#                                  SCRIPTS[KEY]: with $MEASURE_REDIS_PORT set, the scripts (EVALSHA, EVAL) that Redis ran
#                                  during the measurement
#   ms LATENCY                     wrk's latency (1.23ms, 850.00us, 1.02s) in milliseconds
#   jit_warm_up BASE PATH...       $JIT_WARMUP (default 20s) of wrk at 50 connections on each path: a JVM
#                                  compiles its hot code in its first seconds; a fresh process measured
#                                  at once (at 1 connection: a few thousand requests) measures the compiler
# shellcheck shell=bash
# The README's production launch flags (section "Running it in front of your EPR").
JAVA_OPTS=${JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC -XX:MaxDirectMemorySize=128m -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled}
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
missing=()
for tool in nginx wrk ${EXTRA_PACKAGES:-}; do need "$tool" || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} from Debian's packages..."
  apt_get=(apt-get); [ "$(id -u)" = 0 ] || apt_get=(sudo apt-get)
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { "${apt_get[@]}" update -q >/dev/null; DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q "${missing[@]}" >/dev/null; }
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
{ [ -f proxy/target/fhirwall.jar ] && [ -f demo/target/fhirwall-demo.jar ]; } || mvn -q -DskipTests package
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_issuer() { # patients
  java -Xmx1g -jar proxy/target/fhirwall.jar demo --patients "$1" --keep-running --env-file "$work/env" >"$work/demo.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 600); do [ -s "$work/env" ] && break; sleep 0.5; done
  [ -s "$work/env" ] || { echo "demo did not start:"; cat "$work/demo.log"; exit 1; }
  # shellcheck disable=SC1091
  source "$work/env"
}

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

start_fast_epr() {
  local port
  port=$(free_port)
  FAST_BASE="http://127.0.0.1:$port/fhir"
  python3 bench/static-fhir.py "$FAST_BASE" "$work/static"
  start_nginx fast "server { listen 127.0.0.1:$port; root $work/static; default_type application/fhir+json;
    keepalive_requests 1000000;
    location = /fhir/Patient/p1 { try_files /fhir/patient.json =404; }
    location = /fhir/Patient { try_files /fhir/search.json =404; } }"
}

# fhirwall's policies: the demo's clinician, with a rate no load here reaches and no unexplained budget (the bench
# token has no care relationships, so every patient it reads would count there).
mkdir -p "$work/policies" && cp policies/demo/*.yaml "$work/policies/"
sed -i '/^unexplained-limits:/,/^$/d; /^rate:/,$d' "$work/policies/clinician.yaml"
printf 'rate:\n  requests-per-second: 100000\n  burst: 1000000\n  concurrent: 10000\n' >> "$work/policies/clinician.yaml"
FHIRWALL_PID=
start_fhirwall() { # name upstream [extra yaml] [policies dir]
  local name=$1 upstream=$2 extra=${3:-} policies=${4:-$work/policies} port start
  port=$(free_port)
  cat >"$work/fhirwall-$name.yaml" <<CONF
listen: 127.0.0.1:$port
upstream: { url: $upstream, max-concurrent: 1024, per-principal: { max-concurrent: 1024 } }
identity: { issuer: $ISSUER, audience: [fhirwall], clients: [fhirwall-web] }
policies: $policies
audit: { file: $work/audit-$name.jsonl }
admin: { enabled: false }
$extra
CONF
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  java $JAVA_OPTS -jar proxy/target/fhirwall.jar serve --config "$work/fhirwall-$name.yaml" >"$work/serve-$name.log" 2>&1 &
  FHIRWALL_PID=$!
  pids+=($FHIRWALL_PID)
  for _ in $(seq 1 1200); do grep -q "fhirwall ready" "$work/serve-$name.log" && break; sleep 0.05; done
  grep -q "fhirwall ready" "$work/serve-$name.log" || { echo "fhirwall did not start:"; cat "$work/serve-$name.log"; exit 1; }
  SERVE_READY_MS=$(( ($(date +%s%N) - start) / 1000000 ))
  PROXY_BASE="http://127.0.0.1:$port/fhir"
}

quota_of() { # local|redis → the deployment file's quota line for that store (Redis: the one on $redis_port)
  if [ "$1" = redis ]; then
    echo "quota: { store: redis, redis: { url: 'redis://127.0.0.1:$redis_port' } }"
  else
    echo "quota: { store: local }"
  fi
}
start_both_stores() { # a redis-server of its own ($redis_port, $redis_pid), and two fhirwall processes in front of
  # the fast EPR that differ only in their quota store: BASE[local], PID[local], BASE[redis], PID[redis]
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
    --logfile "$work/redis.log" --daemonize no &
  redis_pid=$!
  pids+=($redis_pid)
  for _ in $(seq 1 100); do [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
  declare -gA BASE PID
  local store
  for store in local redis; do
    start_fhirwall "$store" "$FAST_BASE" "$(quota_of "$store")"
    BASE[$store]=$PROXY_BASE
    PID[$store]=$FHIRWALL_PID
  done
}
start_refusing_stores() { # after start_both_stores: two more fhirwall processes, one per quota store (the same
  # redis-server), whose clinician refuses at its limit (at-limit.action: refuse: each request's admission asks
  # whether the account is held); its limits (60 patients an hour, 150 a day) no load here reaches, the read naming
  # one patient: BASE[local-refuse], PID[local-refuse], BASE[redis-refuse], PID[redis-refuse]
  mkdir -p "$work/policies-refuse" && cp "$work/policies/"*.yaml "$work/policies-refuse/"
  sed -i '/^at-limit:/,/^$/d' "$work/policies-refuse/clinician.yaml"
  printf 'at-limit:\n  action: refuse\n' >> "$work/policies-refuse/clinician.yaml"
  local store
  for store in local redis; do
    start_fhirwall "$store-refuse" "$FAST_BASE" "$(quota_of "$store")" "$work/policies-refuse"
    BASE[$store-refuse]=$PROXY_BASE
    PID[$store-refuse]=$FHIRWALL_PID
  done
}
script_calls() { # redis port → the scripts (EVALSHA, EVAL) it ran so far
  redis-cli -p "$1" info commandstats | tr -d '\r' | awk -F'[:,=]' '/^cmdstat_eval(sha)?:/ {n += $3} END {print n + 0}'
}
cpu_ticks() { # pid... → their user + system clock ticks, summed
  local p t=0
  for p in "$@"; do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat") )); done
  echo "$t"
}
thread_ticks() { # pid thread-name → user + system clock ticks of that process's threads of that name
  local t=0 d
  for d in /proc/"$1"/task/*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = "$2" ] && t=$(( t + $(awk '{print $14 + $15}' "$d/stat") ))
  done
  echo "$t"
}
gc_totals() { # java pid → "collections milliseconds" so far (jstat -gc: young + full, and their pause time)
  jstat -gc "$1" 2>/dev/null | awk 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i}
    NR == 2 {printf "%d %.0f\n", $c["YGC"] + $c["FGC"], ($c["YGCT"] + $c["FGCT"]) * 1000}'
}
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; } # busy clock ticks, all cores
nginx_workers() { pgrep -P "$(cat "$work/nginx-$1.pid")" | tr '\n' ' '; } # name → the pids of its workers
per_thousand() { # clock ticks, requests → CPU seconds per 1,000 requests
  awk -v t="$1" -v r="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", t / hz / r * 1000}'
}
jit_warm_up() { # base path...
  local base=$1 path
  shift
  for path in "$@"; do
    wrk -t2 -c50 -d"${JIT_WARMUP:-20s}" -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" "$base/$path" >/dev/null
  done
}
declare -A RPS P50 P99 NON2XX REQS CPU MACHINE AUDIT GC SCRIPTS
measure() { # key base path conns ["pid..." whose CPU is counted]
  local key=$1 base=$2 path=$3 conns=$4 pid=${5:-} threads=$(( $4 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$conns" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" "$base/$path" >/dev/null
  local out before=0 after=0
  local audit_before=0 machine_before gc_before=""
  [ -n "$pid" ] && [ "$(cat "/proc/${pid%% *}/comm" 2>/dev/null)" = java ] && gc_before=$(gc_totals "${pid%% *}")
  # shellcheck disable=SC2086
  [ -n "$pid" ] && before=$(cpu_ticks $pid) && audit_before=$(thread_ticks "${pid%% *}" fhirwall-audit)
  machine_before=$(machine_ticks)
  local scripts_before=0
  [ -n "${MEASURE_REDIS_PORT:-}" ] && scripts_before=$(script_calls "$MEASURE_REDIS_PORT")
  out=$(wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" "$base/$path")
  MACHINE[$key]=$(( $(machine_ticks) - machine_before ))
  SCRIPTS[$key]=""
  [ -n "${MEASURE_REDIS_PORT:-}" ] && SCRIPTS[$key]=$(( $(script_calls "$MEASURE_REDIS_PORT") - scripts_before ))
  AUDIT[$key]=0
  # shellcheck disable=SC2086
  [ -n "$pid" ] && after=$(cpu_ticks $pid) && AUDIT[$key]=$(( $(thread_ticks "${pid%% *}" fhirwall-audit) - audit_before ))
  RPS[$key]=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  REQS[$key]=$(echo "$out" | awk '/requests in/ {print $1}')
  P50[$key]=$(echo "$out" | awk '$1=="50%" {print $2}')
  P99[$key]=$(echo "$out" | awk '$1=="99%" {print $2}')
  NON2XX[$key]=$(echo "$out" | awk '/Non-2xx or 3xx responses/ {print $5}')
  NON2XX[$key]=${NON2XX[$key]:-0}
  CPU[$key]=$(( after - before ))
  GC[$key]=""
  if [ -n "$gc_before" ]; then
    local gc_after
    gc_after=$(gc_totals "${pid%% *}")
    GC[$key]=$(awk -v b="$gc_before" -v a="$gc_after" 'BEGIN {split(b, x, " "); split(a, y, " "); print y[1] - x[1], y[2] - x[2]}')
  fi
}
ms() { # wrk latency (1.23ms, 850.00us, 1.02s) → milliseconds
  echo "$1" | awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; printf "%.3f", v}'
}
