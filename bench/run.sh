#!/usr/bin/env bash
# tianlu benchmark: builds everything in release mode, starts providers and gateways on 127.0.0.1
# (pinned with taskset), drives them with wrk (throughput) and oha (fixed-rate latency), measures
# CPU per request, RSS, start-up time and codec throughput, and writes docs/bench.md and
# docs/bench.png. Every process it starts is stopped by PID on exit.
#
#   bash bench/run.sh                      # the full run (about 15 minutes)
#   BENCH_DURATION=3 bash bench/run.sh     # shorter points
#   BENCH_SCENARIOS="3 4" BENCH_DURATION=2 BENCH_LAT_DURATION=3 BENCH_CONCS="16 128" bash bench/run.sh
#                                          # selected scenarios only, briefly (the report then goes
#                                          # to bench/.results/<time>/bench.md, docs/ is untouched)
#
# Scenarios: 1 HTTP -> Dubbo2 small, 2 HTTP -> Dubbo2 4 KiB POJO, 3 HTTP -> Triple, 4 plain HTTP ->
# HTTP. Environment: BENCH_SCENARIOS ("1 2 3 4"; the codec benchmark runs with all four),
# BENCH_DURATION (s per point, default 6), BENCH_LAT_DURATION (s per latency point, 8),
# BENCH_JVM_WARMUP (s, 10), BENCH_CONCS ("1 16 128 1024"),
# BENCH_GW_CPU (0), BENCH_LOAD_CPU (1), TIANLU_SRC (tree to build tianlu from, default the repo),
# TIANLU_TARGET (its cargo target dir, default $TIANLU_SRC/target).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

DUR=${BENCH_DURATION:-6}
LAT_DUR=${BENCH_LAT_DURATION:-8}
CONCS=${BENCH_CONCS:-"1 16 128 1024"}
SCENARIOS=${BENCH_SCENARIOS:-"1 2 3 4"}
JVM_WARMUP=${BENCH_JVM_WARMUP:-10}
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
FULL=1
for s in 1 2 3 4; do want "$s" || FULL=0; done
# sc_list NAME...: the Dubbo2 scenario names (echo = 1, pojo = 2) that BENCH_SCENARIOS selects.
sc_list() {
  local n out=()
  for n in "$@"; do
    case $n in echo) want 1 && out+=(echo) ;; pojo) want 2 && out+=(pojo) ;; esac
  done
  echo "${out[@]}"
}
GW_CPU=${BENCH_GW_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
TIANLU_SRC=${TIANLU_SRC:-$root}
TIANLU_TARGET=${TIANLU_TARGET:-$TIANLU_SRC/target}
RES="$here/.results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RES"
JSONL="$RES/results.jsonl"
: >"$JSONL"
CLK=$(getconf CLK_TCK)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

log() { echo "==> $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }
record() { echo "$1" >>"$JSONL"; }

# ------------------------------------------------------------------------------------------------
# Tools and builds
need_apt() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    log "installing ${missing[*]} (Debian)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
need_apt wrk nginx-light gnuplot-nox zookeeper
command -v oha >/dev/null || { log "installing oha (crates.io)"; nice -n 10 cargo install oha --locked -q; }
command -v oha >/dev/null || PATH="$HOME/.cargo/bin:$PATH"

log "building tianlu and the sample provider (release) from $TIANLU_SRC"
(cd "$TIANLU_SRC" && CARGO_TARGET_DIR="$TIANLU_TARGET" nice -n 10 cargo build -q --release -p tianlu -p tianlu-sample-provider)
TIANLU="$TIANLU_TARGET/release/tianlu"
PROVIDER="$TIANLU_TARGET/release/tianlu-sample-provider"
log "building bench/ (tlbench)"
CARGO_TARGET_DIR="$here/target" nice -n 10 cargo build -q --release --manifest-path "$here/Cargo.toml"
TLBENCH="$here/target/release/tlbench"
log "building the Java provider"
nice -n 10 bash tests/interop/build.sh >"$RES/java-build.log" 2>&1 || die "tests/interop/build.sh failed: $RES/java-build.log"
JAVA_CP="tests/interop/target/classes:tests/interop/target/lib/*"

PIXIU="$here/.tools/bin/pixiu"
if [ ! -x "$PIXIU" ] && { want 1 || want 2 || want 3; }; then
  log "installing dubbo-go-pixiu v1.1.0 (Go module proxy)"
  mkdir -p "$here/.tools/bin"
  if ! GOBIN="$here/.tools/bin" nice -n 10 go install github.com/apache/dubbo-go-pixiu/cmd/pixiu@v1.1.0 2>"$RES/pixiu-install.log"; then
    # `go install pkg@version` also asks the proxy for the module's version list (deprecation
    # check); where that is refused, build the same module version from a one-line go.mod.
    log "go install failed ($(tail -1 "$RES/pixiu-install.log")); building v1.1.0 from a wrapper module"
    w="$here/.tools/pixiu-mod"
    mkdir -p "$w"
    printf 'module tianlu.bench/pixiu\n\ngo 1.25\n\nrequire github.com/apache/dubbo-go-pixiu v1.1.0\n' >"$w/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/apache/dubbo-go-pixiu/cmd/pixiu"\n' >"$w/tools.go"
    (cd "$w" && nice -n 10 go mod tidy && nice -n 10 go build -o "$PIXIU" github.com/apache/dubbo-go-pixiu/cmd/pixiu)
  fi
fi

if [ -d tests/interop/oracles/js/node_modules/hessian.js ]; then
  NODE_PATH="$root/tests/interop/oracles/js/node_modules"
elif [ "$FULL" = 1 ]; then
  (cd "$here/codec" && npm install --no-audit --no-fund -s >/dev/null)
  NODE_PATH="$here/codec/node_modules"
fi

# ------------------------------------------------------------------------------------------------
# Processes (every one started here is recorded and stopped by PID)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CPU CMD... : runs CMD pinned to CPU in the background; its PID is in $last_pid.
start() {
  local name=$1 cpu=$2
  shift 2
  taskset -c "$cpu" "$@" >"$RES/$name.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}
stop() {
  local p=$1 i
  kill "$p" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # PORT LABEL [tries of 0.1 s]
  local i
  for i in $(seq 1 "${3:-300}"); do port_open "$1" && return 0; sleep 0.1; done
  die "$2 did not open port $1 (logs in $RES)"
}
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    port_open "$p" || { echo "$p"; return; }
  done
}
# The process and its children (nginx workers).
family() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }
cpu_ticks() {
  local t=0 p v
  for p in $1; do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
# Busy ticks of one core (all processes), from /proc/stat.
core_busy() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
rss_kb() {
  local t=0 p v
  for p in $1; do
    v=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
render() { # TEMPLATE OUT KEY=VALUE...
  local tpl=$1 out=$2 kv
  shift 2
  cp "$tpl" "$out"
  for kv in "$@"; do sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out"; done
}

# ------------------------------------------------------------------------------------------------
# Measurements
BODY="$here/data/pojo-4k.json"

# wrk_point SYSTEM SCENARIO PROVIDER CONC URL BODYFILE PIDS
wrk_point() {
  local sys=$1 sc=$2 prov=$3 c=$4 url=$5 body=$6 fam=$7 t0 t1 out line
  t0=$(cpu_ticks "$fam"); b0=$(core_busy "$GW_CPU"); l0=$(core_busy "$LOAD_CPU")
  out=$(BENCH_BODY="$body" BENCH_HEADER="${BENCH_HEADER:-}" taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"${DUR}s" --timeout 5s \
    -s "$here/conf/wrk.lua" "$url" 2>&1) || true
  t1=$(cpu_ticks "$fam"); b1=$(core_busy "$GW_CPU"); l1=$(core_busy "$LOAD_CPU")
  line=$(grep '^@@' <<<"$out" | sed 's/^@@//' | tail -1)
  [ -n "$line" ] || { echo "$out" >&2; die "wrk gave no summary for $sys $sc c=$c"; }
  record "{\"kind\":\"load\",\"system\":\"$sys\",\"scenario\":\"$sc\",\"provider\":\"$prov\",\"conc\":$c,\"cpu_ticks\":$((t1 - t0)),\"gw_core_busy\":$((b1 - b0)),\"load_core_busy\":$((l1 - l0)),\"clk_tck\":$CLK,\"r\":$line}"
  echo "   $sys $sc/$prov c=$c: $(grep -o '"rps":[0-9.]*' <<<"$line") $(grep -o '"p99_us":[0-9]*' <<<"$line") cpu_ticks=$((t1 - t0))" >&2
}

# direct_point SCENARIO PROVIDER CONC ADDR [SERVICE] (the Dubbo client on the gateway's core)
# Scenario tri (3) is the echo call over Triple.
direct_point() {
  local sc=$1 prov=$2 c=$3 addr=$4 svc=${5:-org.tianlu.sample.EchoService} line method=echo
  local proto=dubbo tsc=$sc
  [ "$sc" = tri ] && { proto=tri; tsc=echo; }
  line=$(taskset -c "$GW_CPU" "$TLBENCH" dubbo --addr "$addr" --service "$svc" --scenario "$tsc" --protocol "$proto" \
    --pojo "$BODY" --concurrency "$c" --duration "$DUR" --warmup 1 --method-echo "${ECHO_METHOD:-echo}")
  record "{\"kind\":\"load\",\"system\":\"direct\",\"scenario\":\"$sc\",\"provider\":\"$prov\",\"conc\":$c,\"r\":$line}"
  echo "   direct $sc/$prov c=$c: $(grep -o '"rps":[0-9.]*' <<<"$line")" >&2
}

# oha_point SYSTEM SCENARIO PROVIDER RATE URL BODYFILE
oha_point() {
  local sys=$1 sc=$2 prov=$3 rate=$4 url=$5 body=$6 out args=()
  [ -n "$body" ] && args=(-m POST -T application/json -D "$body")
  out=$(taskset -c "$LOAD_CPU" oha --no-tui --output-format json -z "${LAT_DUR}s" -q "$rate" -c 32 \
    "${args[@]}" "$url" 2>/dev/null) || die "oha failed for $sys $sc"
  echo "$out" >"$RES/oha-$sys-$sc-$prov-$rate.json"
  python3 -c "$OHA2JSON" "$RES/oha-$sys-$sc-$prov-$rate.json" "$sys" "$sc" "$prov" "$rate" >>"$JSONL"
  echo "   $sys $sc/$prov @${rate}/s: $(tail -1 "$JSONL" | grep -o '"p99_us": [0-9.]*')" >&2
}
OHA2JSON='
import json, sys
d = json.load(open(sys.argv[1]))
sys.argv = sys.argv[1:]
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
print(json.dumps({"kind": "latency", "system": sys.argv[1], "scenario": sys.argv[2],
                  "provider": sys.argv[3], "rate": float(sys.argv[4]),
                  "r": {"rps": s["requestsPerSec"], "p50_us": p["p50"] * 1e6, "p99_us": p["p99"] * 1e6,
                        "p999_us": p["p99.9"] * 1e6, "ok": codes.get("200", 0),
                        "non200": sum(v for k, v in codes.items() if k != "200"),
                        "errors": sum(v for k, v in d.get("errorDistribution", {}).items() if "aborted due to deadline" not in k)}}))
'

direct_rate_point() { # SCENARIO PROVIDER RATE ADDR SERVICE
  local line proto=dubbo tsc=$1
  [ "$1" = tri ] && { proto=tri; tsc=echo; }
  line=$(taskset -c "$GW_CPU" "$TLBENCH" dubbo --addr "$4" --service "$5" --scenario "$tsc" --protocol "$proto" \
    --pojo "$BODY" --rate "$3" --duration "$LAT_DUR" --warmup 1 --method-echo "${ECHO_METHOD:-echo}")
  record "{\"kind\":\"latency\",\"system\":\"direct\",\"scenario\":\"$1\",\"provider\":\"$2\",\"rate\":$3,\"r\":$line}"
}

# resources SYSTEM PROVIDER PID PORT CONNPATH: RSS idle and with 1,000 idle keep-alive connections.
resources() {
  local sys=$1 prov=$2 pid=$3 port=$4 path=$5 fam idle held cpid
  fam=$(family "$pid")
  idle=$(rss_kb "$fam")
  taskset -c "$LOAD_CPU" "$TLBENCH" conns --addr "127.0.0.1:$port" --count 1000 --path "$path" --hold 60 \
    >"$RES/conns-$sys.out" 2>&1 </dev/null &
  cpid=$!
  pids+=("$cpid")
  for _ in $(seq 1 300); do grep -q '^ready' "$RES/conns-$sys.out" && break; sleep 0.1; done
  sleep 0.5
  held=$(rss_kb "$(family "$pid")")
  local ready
  ready=$(grep '^ready' "$RES/conns-$sys.out" || echo "ready 0 0")
  stop "$cpid"
  record "{\"kind\":\"rss\",\"system\":\"$sys\",\"provider\":\"$prov\",\"idle_kb\":$idle,\"conns_kb\":$held,\"conns_open\":$(awk '{print $2}' <<<"$ready"),\"conns_ok\":$(awk '{print $3}' <<<"$ready")}"
  echo "   $sys RSS idle ${idle} KiB, 1000 conns ${held} KiB ($ready)" >&2
}

startup_point() { # SYSTEM PORT CMD...
  local sys=$1 port=$2 line
  shift 2
  line=$(taskset -c "$GW_CPU" "$TLBENCH" startup --port "$port" --repeat 5 -- "$@")
  record "{\"kind\":\"startup\",\"system\":\"$sys\",\"r\":$line}"
  echo "   $sys start-up: $line" >&2
}

check() { # LABEL EXPECTED-SUBSTRING CURL-ARGS... (5 tries: discovery may still be under way)
  local label=$1 want=$2 got i
  shift 2
  for i in 1 2 3 4 5; do
    got=$(curl -s --max-time 10 "$@" || true)
    [[ "$got" == *"$want"* ]] && return 0
    sleep 1
  done
  die "$label answered ${got:0:300} (wanted $want)"
}
probe() { # like check, but prints the last answer and fails instead of stopping the run
  local want=$1 got i
  shift
  for i in 1 2 3 4 5; do
    got=$(curl -s --max-time 10 "$@" || true)
    [[ "$got" == *"$want"* ]] && return 0
    sleep 1
  done
  echo "${got:0:300}"
  return 1
}
note() { # SCENARIO SYSTEM TEXT: a point that could not be measured, and why (shown in the report)
  record "$(python3 -c 'import json, sys; print(json.dumps({"kind": "note", "scenario": sys.argv[1], "system": sys.argv[2], "text": sys.argv[3]}))' "$@")"
  log "$2 $1: $3"
}

rate_of() { # SYSTEM SCENARIO PROVIDER: half the best req/s measured, rounded down to 100
  python3 - "$JSONL" "$@" <<'PY'
import json, sys
best = 0
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["kind"] == "load" and (d["system"], d["scenario"], d["provider"]) == tuple(sys.argv[2:5]):
        best = max(best, d["r"]["rps"])
print(max(100, int(best / 2 / 100) * 100))
PY
}

# gateway_suite SYSTEM PROVIDER PORT PID SCENARIOS...
gateway_suite() {
  local sys=$1 prov=$2 port=$3 pid=$4 sc c fam
  shift 4
  fam=$(family "$pid")
  for sc in "$@"; do
    local url="http://127.0.0.1:$port/bench/echo?s=hello" body=""
    [ "$sc" = pojo ] && { url="http://127.0.0.1:$port/bench/object"; body="$BODY"; }
    [ "$sc" = http ] && url="http://127.0.0.1:$port/bench/echo?s=hello"
    [ "$sc" = trijson ] && { url="http://127.0.0.1:$port/bench/tj/echo"; body="$HELLO"; }
    BENCH_BODY="$body" taskset -c "$LOAD_CPU" wrk -t1 -c16 -d2s -s "$here/conf/wrk.lua" "$url" >/dev/null 2>&1 || true
    for c in $CONCS; do wrk_point "$sys" "$sc" "$prov" "$c" "$url" "$body" "$fam"; done
  done
  record "{\"kind\":\"rss_after\",\"system\":\"$sys\",\"provider\":\"$prov\",\"kb\":$(rss_kb "$(family "$pid")")}"
}

{
  echo "{\"kind\":\"meta\",\"date\":\"$(date -u +%Y-%m-%dT%H:%MZ)\",\"cpu\":\"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\",\"cores\":$(nproc),\"kernel\":\"$(uname -r)\",\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"gw_cpu\":$GW_CPU,\"load_cpu\":$LOAD_CPU,\"duration\":$DUR,\"lat_duration\":$LAT_DUR,"
  echo "\"tianlu_rev\":\"${TIANLU_REV:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)}\",\"rustc\":\"$(rustc --version)\",\"go\":\"$(go version | awk '{print $3}')\","
  echo "\"nginx\":\"$(nginx -v 2>&1 | sed 's/.*nginx\///')\",\"wrk\":\"$(wrk -v 2>&1 | head -1 | awk '{print $2}')\",\"oha\":\"$(oha --version | awk '{print $2}')\",\"java\":\"$(java -version 2>&1 | head -1 | tr -d '"')\",\"node\":\"$(node --version)\",\"pixiu\":\"v1.1.0\"}"
} | tr -d '\n' >>"$JSONL"
echo >>"$JSONL"

HELLO="$RES/hello.json"
printf '"hello"' >"$HELLO"

# ------------------------------------------------------------------------------------------------
# Rust sample provider: tianlu, the direct client, and pixiu's registry-free filter
if want 1 || want 2; then
P_RUST=$(free_port)
log "Rust sample provider on $P_RUST (cpu $LOAD_CPU)"
start provider-rust "$LOAD_CPU" "$PROVIDER" --listen "127.0.0.1:$P_RUST" --name bench
RUST_PID=$last_pid
wait_port "$P_RUST" "sample provider"

API_T="$RES/tianlu-api-rust.yaml"
render "$here/conf/tianlu-api.yaml" "$API_T" IFACE=org.tianlu.sample.EchoService ECHO_METHOD=echo
GW=$(free_port)
render "$here/conf/tianlu-conf.yaml" "$RES/tianlu-rust.yaml" GW_PORT="$GW" PROVIDER_PORT="$P_RUST" API_CONFIG="$API_T"
export RUST_LOG=warn
log "tianlu -> Rust provider (gateway on cpu $GW_CPU, port $GW)"
startup_point tianlu "$GW" "$TIANLU" run -c "$RES/tianlu-rust.yaml"
start tianlu-rust "$GW_CPU" "$TIANLU" run -c "$RES/tianlu-rust.yaml"
TL=$last_pid
wait_port "$GW" tianlu
check "tianlu echo" '"hello"' "http://127.0.0.1:$GW/bench/echo?s=hello"
check "tianlu echoObject" '"SKU-00003"' -H 'content-type: application/json' --data-binary "@$BODY" "http://127.0.0.1:$GW/bench/object"
resources tianlu rust "$TL" "$GW" "/bench/echo?s=hello"
gateway_suite tianlu rust "$GW" "$TL" $(sc_list echo pojo)
R_ECHO=$(rate_of tianlu echo rust); R_POJO=$(rate_of tianlu pojo rust)
log "fixed-rate latency at $R_ECHO/s (echo) and $R_POJO/s (pojo)"
want 1 && oha_point tianlu echo rust "$R_ECHO" "http://127.0.0.1:$GW/bench/echo?s=hello" ""
want 2 && oha_point tianlu pojo rust "$R_POJO" "http://127.0.0.1:$GW/bench/object" "$BODY"
stop "$TL"

log "direct Dubbo client -> Rust provider (client on cpu $GW_CPU)"
for sc in $(sc_list echo pojo); do for c in $CONCS; do direct_point "$sc" rust "$c" "127.0.0.1:$P_RUST"; done; done
want 1 && direct_rate_point echo rust "$R_ECHO" "127.0.0.1:$P_RUST" org.tianlu.sample.EchoService
want 2 && direct_rate_point pojo rust "$R_POJO" "127.0.0.1:$P_RUST" org.tianlu.sample.EchoService

# pixiu v1.1.0's dgp.filter.http.dubboproxy finds providers only through a registry, and its
# dubbo-go consumer uses application-level discovery, which the Rust provider does not offer. Its
# registry-free filter (dgp.filter.http.directdubboproxy) reaches it, but builds a new invoker and
# connection per request: one point, for the record.
if want 1; then
GW=$(free_port)
render "$here/conf/pixiu-direct-conf.yaml" "$RES/pixiu-direct.yaml" GW_PORT="$GW" PROVIDER_PORT="$P_RUST"
start pixiu-direct "$GW_CPU" "$PIXIU" gateway start -l warning -c "$RES/pixiu-direct.yaml"
PX=$last_pid
wait_port "$GW" pixiu
printf '["hello"]' >"$RES/echo-array.json"
check "pixiu directdubboproxy echo" 'hello' -H 'x-dubbo-service-method-overloading: java.lang.String' \
  --data-binary "@$RES/echo-array.json" "http://127.0.0.1:$GW/bench/org.tianlu.sample.EchoService/echo"
BENCH_HEADER="x-dubbo-service-method-overloading: java.lang.String" \
  wrk_point pixiu-directdubboproxy echo rust 16 "http://127.0.0.1:$GW/bench/org.tianlu.sample.EchoService/echo" \
  "$RES/echo-array.json" "$PX"
stop "$PX"
fi
stop "$RUST_PID"
fi

# ------------------------------------------------------------------------------------------------
# Java provider (registered in ZooKeeper for pixiu): direct client, tianlu, pixiu; with scenario 3
# it also serves Triple on a second port.
if want 1 || want 2 || want 3; then
P_JAVA=$(free_port); P_ZK=$(free_port); TRI_ARGS=()
want 3 && { P_TRI=$(free_port); TRI_ARGS=(--tri-port "$P_TRI"); }
log "ZooKeeper on $P_ZK, Java provider on $P_JAVA (cpu $LOAD_CPU)"
mkdir -p "$RES/zk"
printf 'tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n' \
  "$RES/zk" "$P_ZK" >"$RES/zoo.cfg"
ZK_CP="/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar"
start zookeeper "$LOAD_CPU" java -Xmx128m -XX:+UseSerialGC -Dzookeeper.admin.enableServer=false \
  -cp "$ZK_CP" org.apache.zookeeper.server.ZooKeeperServerMain "$RES/zoo.cfg"
wait_port "$P_ZK" "ZooKeeper" 600
# With every network interface ignored, Dubbo registers 127.0.0.1 (checked after pixiu connects).
start provider-java "$LOAD_CPU" java -Xmx512m -Ddubbo.network.interface.ignored='.*' -cp "$JAVA_CP" \
  org.tianlu.interop.ProviderMain --dubbo-port "$P_JAVA" "${TRI_ARGS[@]}" --registry "zookeeper://127.0.0.1:$P_ZK"
JV=$last_pid
wait_port "$P_JAVA" "Java provider" 900
want 3 && wait_port "$P_TRI" "Java provider (tri)" 900
export ECHO_METHOD=echoString
JSVC=org.tianlu.interop.TypesService
log "warming the JVM (direct client, $JVM_WARMUP s)"
taskset -c "$GW_CPU" "$TLBENCH" dubbo --addr "127.0.0.1:$P_JAVA" --service "$JSVC" --scenario echo \
  --method-echo echoString --concurrency 16 --duration "$JVM_WARMUP" --warmup 0 >/dev/null
if want 3; then
  taskset -c "$GW_CPU" "$TLBENCH" dubbo --protocol tri --addr "127.0.0.1:$P_TRI" --service "$JSVC" --scenario echo \
    --method-echo echoString --concurrency 16 --duration "$JVM_WARMUP" --warmup 0 >/dev/null
fi
for sc in $(sc_list echo pojo); do for c in $CONCS; do direct_point "$sc" java "$c" "127.0.0.1:$P_JAVA" "$JSVC"; done; done

if want 1 || want 2; then
API_TJ="$RES/tianlu-api-java.yaml"; API_PJ="$RES/pixiu-api-java.yaml"
render "$here/conf/tianlu-api.yaml" "$API_TJ" IFACE="$JSVC" ECHO_METHOD=echoString
render "$here/conf/pixiu-api.yaml" "$API_PJ" IFACE="$JSVC" ECHO_METHOD=echoString
GW=$(free_port)
render "$here/conf/tianlu-conf.yaml" "$RES/tianlu-java.yaml" GW_PORT="$GW" PROVIDER_PORT="$P_JAVA" API_CONFIG="$API_TJ"
log "tianlu -> Java provider (port $GW)"
start tianlu-java "$GW_CPU" "$TIANLU" run -c "$RES/tianlu-java.yaml"
TL=$last_pid
wait_port "$GW" tianlu
check "tianlu echoString (Java)" '"hello"' "http://127.0.0.1:$GW/bench/echo?s=hello"
check "tianlu echoObject (Java)" '"SKU-00003"' -H 'content-type: application/json' --data-binary "@$BODY" "http://127.0.0.1:$GW/bench/object"
gateway_suite tianlu java "$GW" "$TL" $(sc_list echo pojo)
RJ_ECHO=$(rate_of tianlu echo java); RJ_POJO=$(rate_of tianlu pojo java)
want 1 && oha_point tianlu echo java "$RJ_ECHO" "http://127.0.0.1:$GW/bench/echo?s=hello" ""
want 2 && oha_point tianlu pojo java "$RJ_POJO" "http://127.0.0.1:$GW/bench/object" "$BODY"
stop "$TL"
want 1 && direct_rate_point echo java "$RJ_ECHO" "127.0.0.1:$P_JAVA" "$JSVC"
want 2 && direct_rate_point pojo java "$RJ_POJO" "127.0.0.1:$P_JAVA" "$JSVC"

GW=$(free_port)
render "$here/conf/pixiu-conf.yaml" "$RES/pixiu-java.yaml" GW_PORT="$GW" API_CONFIG="$API_PJ" ZK_PORT="$P_ZK" PROVIDER_PORT="$P_JAVA"
log "pixiu -> Java provider (port $GW)"
startup_point pixiu "$GW" "$PIXIU" gateway start -l warning -c "$RES/pixiu-java.yaml"
start pixiu-java "$GW_CPU" "$PIXIU" gateway start -l warning -c "$RES/pixiu-java.yaml"
PX=$last_pid
wait_port "$GW" pixiu
check "pixiu echoString (Java)" 'hello' "http://127.0.0.1:$GW/bench/echo?s=hello"
check "pixiu echoObject (Java)" 'SKU-00003' -H 'content-type: application/json' --data-binary "@$BODY" "http://127.0.0.1:$GW/bench/object"
# pixiu's provider address came from ZooKeeper: it must be the loopback one.
if ss -tnp | grep "pid=$PX," | awk '{print $5}' | grep -v '127\.0\.0\.1' | grep -q .; then
  die "pixiu connected to a non-loopback address: $(ss -tnp | grep "pid=$PX,")"
fi
resources pixiu java "$PX" "$GW" "/bench/echo?s=hello"
gateway_suite pixiu java "$GW" "$PX" $(sc_list echo pojo)
want 1 && oha_point pixiu echo java "$RJ_ECHO" "http://127.0.0.1:$GW/bench/echo?s=hello" ""
want 2 && oha_point pixiu pojo java "$RJ_POJO" "http://127.0.0.1:$GW/bench/object" "$BODY"
PJ_ECHO=$(rate_of pixiu echo java); PJ_POJO=$(rate_of pixiu pojo java)
if want 1 && want 2 && [ "$PJ_ECHO" -lt "$RJ_ECHO" ]; then
  log "pixiu at half its own max ($PJ_ECHO/s echo, $PJ_POJO/s pojo), and the direct client at those rates"
  oha_point pixiu echo java "$PJ_ECHO" "http://127.0.0.1:$GW/bench/echo?s=hello" ""
  oha_point pixiu pojo java "$PJ_POJO" "http://127.0.0.1:$GW/bench/object" "$BODY"
  stop "$PX"
  direct_rate_point echo java "$PJ_ECHO" "127.0.0.1:$P_JAVA" "$JSVC"
  direct_rate_point pojo java "$PJ_POJO" "127.0.0.1:$P_JAVA" "$JSVC"
  log "tianlu at pixiu's half-load rates"
  GW=$(free_port)
  render "$here/conf/tianlu-conf.yaml" "$RES/tianlu-java2.yaml" GW_PORT="$GW" PROVIDER_PORT="$P_JAVA" API_CONFIG="$API_TJ"
  start tianlu-java2 "$GW_CPU" "$TIANLU" run -c "$RES/tianlu-java2.yaml"
  TL=$last_pid
  wait_port "$GW" tianlu
  oha_point tianlu echo java "$PJ_ECHO" "http://127.0.0.1:$GW/bench/echo?s=hello" ""
  oha_point tianlu pojo java "$PJ_POJO" "http://127.0.0.1:$GW/bench/object" "$BODY"
  stop "$TL"
else
  stop "$PX"
fi
fi

# --- scenario 3: HTTP -> Triple (the Java provider's tri port) ------------------------------------
if want 3; then
  API_T3="$RES/tianlu-api-tri.yaml"
  render "$here/conf/tianlu-tri-api.yaml" "$API_T3" IFACE="$JSVC"
  GW=$(free_port)
  render "$here/conf/tianlu-tri-conf.yaml" "$RES/tianlu-tri.yaml" GW_PORT="$GW" TRI_PORT="$P_TRI" API_CONFIG="$API_T3"
  log "tianlu -> Java provider over Triple (port $GW)"
  start tianlu-tri "$GW_CPU" "$TIANLU" run -c "$RES/tianlu-tri.yaml"
  TL=$last_pid
  wait_port "$GW" tianlu
  check "tianlu echoString over Triple" '"hello"' "http://127.0.0.1:$GW/bench/echo?s=hello"
  check "tianlu triple-json echoString" '"hello"' -H 'content-type: application/json' --data-binary "@$HELLO" "http://127.0.0.1:$GW/bench/tj/echo"
  gateway_suite tianlu java "$GW" "$TL" tri trijson
  R_TRI=$(rate_of tianlu tri java); R_TJ=$(rate_of tianlu trijson java)
  oha_point tianlu tri java "$R_TRI" "http://127.0.0.1:$GW/bench/echo?s=hello" ""
  oha_point tianlu trijson java "$R_TJ" "http://127.0.0.1:$GW/bench/tj/echo" "$HELLO"
  stop "$TL"
  log "direct Triple client -> Java provider (client on cpu $GW_CPU)"
  for c in $CONCS; do direct_point tri java "$c" "127.0.0.1:$P_TRI" "$JSVC"; done
  direct_rate_point tri java "$R_TRI" "127.0.0.1:$P_TRI" "$JSVC"

  # pixiu v1.1.0: requestType triple goes through dubbo-go's generic call over the tri protocol,
  # providers from ZooKeeper. If it cannot serve the call, its answer is recorded as the reason.
  API_P3="$RES/pixiu-api-tri.yaml"
  render "$here/conf/pixiu-tri-api.yaml" "$API_P3" IFACE="$JSVC"
  GW=$(free_port)
  render "$here/conf/pixiu-conf.yaml" "$RES/pixiu-tri.yaml" GW_PORT="$GW" API_CONFIG="$API_P3" ZK_PORT="$P_ZK" PROVIDER_PORT="$P_TRI"
  log "pixiu -> Java provider over Triple (port $GW)"
  start pixiu-tri "$GW_CPU" "$PIXIU" gateway start -l warning -c "$RES/pixiu-tri.yaml"
  PX=$last_pid
  wait_port "$GW" pixiu
  if answer=$(probe 'hello' "http://127.0.0.1:$GW/bench/echo?s=hello"); then
    gateway_suite pixiu java "$GW" "$PX" tri
    oha_point pixiu tri java "$R_TRI" "http://127.0.0.1:$GW/bench/echo?s=hello" ""
  else
    # v1.1.0 sends requestType triple to its protobuf (IDL) Triple client, pkg/client/triple,
    # which dials the API's URL (filled only by its registry adapter) and has no generic POJO path.
    note tri pixiu "pixiu v1.1.0 cannot make this call: requestType triple goes to its protobuf-only Triple client (pkg/client/triple: no generic call for POJO services; it dials the API URL that only its registry adapter fills), which answered ${answer:-nothing}"
  fi
  stop "$PX"
fi
stop "$JV"
unset ECHO_METHOD
fi

# --- scenario 4, plain HTTP -> HTTP: tianlu (requestType: http) and nginx against the tiny backend --
if want 4; then
P_BACK=$(free_port); GW=$(free_port)
log "HTTP backend on $P_BACK (cpu $LOAD_CPU); nginx on $GW (cpu $GW_CPU, 1 worker)"
start http-backend "$LOAD_CPU" "$TLBENCH" http-backend --listen "127.0.0.1:$P_BACK"
BK=$last_pid
wait_port "$P_BACK" "HTTP backend"
mkdir -p "$RES/nginx"
render "$here/conf/nginx.conf" "$RES/nginx/nginx.conf" DIR="$RES/nginx" GW_PORT="$GW" BACKEND_PORT="$P_BACK"
startup_point nginx "$GW" nginx -p "$RES/nginx" -e "$RES/nginx/nginx-error.log" -c "$RES/nginx/nginx.conf"
start nginx "$GW_CPU" nginx -p "$RES/nginx" -e "$RES/nginx/nginx-error.log" -c "$RES/nginx/nginx.conf"
NG=$last_pid
wait_port "$GW" nginx
check "nginx" 'hello' "http://127.0.0.1:$GW/bench/echo?s=hello"
resources nginx http "$NG" "$GW" "/bench/echo?s=hello"
gateway_suite nginx http "$GW" "$NG" http
R_HTTP=$(rate_of nginx http http)
oha_point nginx http http "$R_HTTP" "http://127.0.0.1:$GW/bench/echo?s=hello" ""
stop "$NG"
API_T4="$RES/tianlu-api-http.yaml"
render "$here/conf/tianlu-http-api.yaml" "$API_T4"
GW=$(free_port)
render "$here/conf/tianlu-http-conf.yaml" "$RES/tianlu-http.yaml" GW_PORT="$GW" BACKEND_PORT="$P_BACK" API_CONFIG="$API_T4"
log "tianlu (requestType: http) on $GW (cpu $GW_CPU)"
start tianlu-http "$GW_CPU" "$TIANLU" run -c "$RES/tianlu-http.yaml"
TL=$last_pid
wait_port "$GW" tianlu
check "tianlu http" 'hello' "http://127.0.0.1:$GW/bench/echo?s=hello"
gateway_suite tianlu http "$GW" "$TL" http
oha_point tianlu http http "$R_HTTP" "http://127.0.0.1:$GW/bench/echo?s=hello" ""
stop "$TL"
# direct: the load generator on the gateway's core, straight to the backend
for c in $CONCS; do
  LOAD_CPU_SAVE=$LOAD_CPU; LOAD_CPU=$GW_CPU
  wrk_point direct http http "$c" "http://127.0.0.1:$P_BACK/bench/echo?s=hello" "" ""
  LOAD_CPU=$LOAD_CPU_SAVE
done
LOAD_CPU_SAVE=$LOAD_CPU; LOAD_CPU=$GW_CPU
oha_point direct http http "$R_HTTP" "http://127.0.0.1:$P_BACK/bench/echo?s=hello" ""
LOAD_CPU=$LOAD_CPU_SAVE
stop "$BK"
fi

# --- codec: tianlu-protocol vs hessian.js (full runs only) ------------------------------------------
if [ "$FULL" = 1 ]; then
log "codec: tianlu-protocol vs hessian.js 2.11.0 (cpu $GW_CPU)"
line=$(taskset -c "$GW_CPU" "$TLBENCH" codec --pojo "$BODY" --iterations 300000 --dump "$RES")
record "{\"kind\":\"codec\",\"r\":$line}"
line=$(NODE_PATH="$NODE_PATH" taskset -c "$GW_CPU" node "$here/codec/hessian_js.js" "$BODY" 300000 "$RES")
record "{\"kind\":\"codec_js\",\"same_request_bytes\":$(cmp -s "$RES/rust-request.bin" "$RES/js-request.bin" && echo true || echo false),\"same_response_bytes\":$(cmp -s "$RES/rust-response.bin" "$RES/js-response.bin" && echo true || echo false),\"r\":$line}"

fi

record "{\"kind\":\"meta_end\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
# Keep the raw results small: the Java provider and ZooKeeper write a lot.
rm -rf "$RES/zk"
find "$RES" -name '*.log' -size +20M -exec truncate -s 20M {} +
if [ "$FULL" = 1 ]; then
  log "writing docs/bench.md and docs/bench.png"
  python3 "$here/report.py" "$JSONL" "$root/docs/bench.md" "$root/docs/bench.png" "$RES"
  log "done: docs/bench.md (raw results in $RES)"
else
  # A partial run is not the published page: its report stays with the raw results.
  python3 "$here/report.py" "$JSONL" "$RES/bench.md" "$RES/bench.png" "$RES"
  log "done (scenarios $SCENARIOS): $RES/bench.md"
fi
