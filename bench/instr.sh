#!/usr/bin/env bash
# Instructions per request in the gateway's user space, counted by callgrind: a deterministic
# figure for A/B comparisons of code changes, where wall-clock CPU on a shared VM moves by
# ±10 %. One keep-alive connection sends N sequential requests; the count covers the whole
# process (every thread) from the first to the last request.
#
#   bash bench/instr.sh                     # scenario 4 (HTTP -> HTTP), 1 (HTTP -> Dubbo2, small)
#                                           # and 2 (HTTP -> Dubbo2, 4 KiB POJO), with
#                                           # target/release/tianlu
#   BIN=/path/to/tianlu N=5000 bash bench/instr.sh 4
#
# Needs valgrind (Debian); builds nothing but tlbench and the sample provider if missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
BIN=${BIN:-$root/target/release/tianlu}
N=${N:-2000}
SCENARIOS=${*:-"4 1 2"}
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }
[ -x "$BIN" ] || (cd "$root" && cargo build -q --release -p tianlu)
[ -x "$root/target/release/tianlu-sample-provider" ] || (cd "$root" && cargo build -q --release -p tianlu-sample-provider)
TLBENCH="$here/target/release/tlbench"
[ -x "$TLBENCH" ] || CARGO_TARGET_DIR="$here/target" cargo build -q --release --manifest-path "$here/Cargo.toml"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { local p; while :; do p=$((20000 + RANDOM % 20000)); port_free "$p" && port_free $((p + 1)) && { echo "$p"; return; }; done; }

for sc in $SCENARIOS; do
  dir=$(mktemp -d)
  back=$(pick_port); gw=$((back + 1))
  case $sc in
    1 | 2)
      "$root/target/release/tianlu-sample-provider" --listen "127.0.0.1:$back" --name bench >"$dir/back.log" 2>&1 &
      sed -e "s|@IFACE@|org.tianlu.sample.EchoService|g" -e "s|@ECHO_METHOD@|echo|g" "$here/conf/tianlu-api.yaml" >"$dir/api.yaml"
      sed -e "s|@GW_PORT@|$gw|g" -e "s|@PROVIDER_PORT@|$back|g" -e "s|@API_CONFIG@|$dir/api.yaml|g" "$here/conf/tianlu-conf.yaml" >"$dir/conf.yaml" ;;
    4)
      "$TLBENCH" http-backend --listen "127.0.0.1:$back" >"$dir/back.log" 2>&1 &
      cp "$here/conf/tianlu-http-api.yaml" "$dir/api.yaml"
      sed -e "s|@GW_PORT@|$gw|g" -e "s|@BACKEND_PORT@|$back|g" -e "s|@API_CONFIG@|$dir/api.yaml|g" "$here/conf/tianlu-http-conf.yaml" >"$dir/conf.yaml" ;;
    *) echo "instr.sh: scenario $sc: only 1, 2 and 4" >&2; exit 2 ;;
  esac
  backend=$!
  # Counting starts off and is switched on once the gateway answers (start-up is not counted).
  MIMALLOC_ARENA_EAGER_COMMIT=0 RUST_LOG=warn valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$dir/cg.out" "$BIN" run -c "$dir/conf.yaml" >"$dir/gw.log" 2>&1 &
  gateway=$!
  ok=0
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "http://127.0.0.1:$gw/bench/echo?s=hello" && { ok=1; break; }
    sleep 0.2
  done
  [ "$ok" = 1 ] || { echo "instr.sh: the gateway did not answer (log: $dir/gw.log)" >&2; kill "$backend" "$gateway"; exit 1; }
  callgrind_control -i on "$gateway" >/dev/null 2>&1
  python3 - "$gw" "$N" "$sc" "$here/data/pojo-4k.json" <<'PY'
import socket, sys
port, n, sc, pojo = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port))
if sc == "2":
    body = open(pojo, "rb").read()
    req = (b"POST /bench/object HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body
else:
    req = b"GET /bench/echo?s=hello HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: instr\r\nAccept: */*\r\n\r\n"
buf = b""
for _ in range(n):
    s.sendall(req)
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("the gateway closed the connection")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit("unexpected answer: %r" % head)
    length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
    while len(buf) < length:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("the gateway closed the connection")
        buf += chunk
    buf = buf[length:]
PY
  kill -INT "$gateway"; wait "$gateway" 2>/dev/null || true
  kill "$backend"; wait "$backend" 2>/dev/null || true
  total=$(grep -h '^summary:\|^totals:' "$dir"/cg.out* | head -1 | awk '{print $2}')
  echo "scenario $sc: $((total / N)) instructions per request ($N requests, $(basename "$BIN"))"
  rm -rf "$dir"
done
