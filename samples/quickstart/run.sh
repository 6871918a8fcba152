#!/usr/bin/env bash
# Quickstart: builds tianlu and the Rust sample provider, starts both on 127.0.0.1, prints curl
# lines that work, and stops both (by PID) on Ctrl-C. With --check it runs those curl lines
# itself, checks the answers, and exits (the test suite uses this).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
check=false
[ "${1:-}" = "--check" ] && check=true

GATEWAY=http://127.0.0.1:18080
ADMIN=http://127.0.0.1:19901

echo "==> building (first build takes a few minutes)"
cargo build -q -p tianlu -p tianlu-sample-provider
bin="${CARGO_TARGET_DIR:-$root/target}/debug"

logs="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_for() { # wait_for URL-or-host:port label log
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$2 did not start; its log:" >&2; cat "$3" >&2; exit 1
}

"$bin/tianlu-sample-provider" --listen 127.0.0.1:20880 --name provider-1 >"$logs/provider.log" 2>&1 &
pids+=($!)
wait_for 127.0.0.1:20880 "sample provider" "$logs/provider.log"
"$bin/tianlu" run -c "$here/conf.yaml" >"$logs/gateway.log" 2>&1 &
pids+=($!)
wait_for 127.0.0.1:18080 "tianlu" "$logs/gateway.log"

curls=(
  "curl -s $GATEWAY/api/users/1"
  "curl -s '$GATEWAY/api/users?name=a&limit=10'"
  "curl -s -X POST $GATEWAY/api/users -H 'content-type: application/json' -d '{\"name\":\"dora\",\"email\":\"dora@example.com\",\"age\":31,\"tags\":[\"new\"]}'"
  "curl -s -X PUT $GATEWAY/api/users/2 -H 'content-type: application/json' -d '{\"email\":\"bob@work.example\"}'"
  "curl -s $GATEWAY/api/orders/1"
  "curl -s -X POST $GATEWAY/api/orders -H 'content-type: application/json' -d '{\"userId\":1,\"items\":[{\"sku\":\"BOOK-001\",\"quantity\":3,\"price\":\"19.99\"},{\"sku\":\"PEN-002\",\"quantity\":1,\"price\":\"0.01\"}]}'"
  "curl -s -X POST '$GATEWAY/api/invoke/org.tianlu.sample.EchoService?method=add' -H 'content-type: application/json' -d '{\"types\":[\"int\",\"int\"],\"values\":[20,22]}'"
  "curl -s $GATEWAY/api/users/999"
  "curl -s $ADMIN/config"
)

if $check; then
  fail=0
  expect() { # expect <curl line index> <substring>
    local out; out="$(eval "${curls[$1]}")"
    if [[ "$out" == *"$2"* ]]; then echo "ok   ${curls[$1]}"; else echo "FAIL ${curls[$1]}"; echo "     got: $out"; fail=1; fi
  }
  expect 0 '"name":"alice"'
  expect 1 '"name":"carol"'
  expect 2 '"name":"dora"'
  expect 3 '"email":"bob@work.example"'
  expect 4 '"total":"39.99"'
  expect 5 '"total":"59.98"'
  expect 6 '42'
  expect 7 '"exception":"org.tianlu.sample.UserNotFoundException"'
  expect 8 '"summary"'
  if [ $fail -ne 0 ]; then echo "gateway log:"; cat "$logs/gateway.log"; exit 1; fi
  echo "quickstart check passed"
  exit 0
fi

echo
echo "tianlu is listening on $GATEWAY (admin on $ADMIN), the sample provider on 127.0.0.1:20880."
echo "Try:"
for c in "${curls[@]}"; do echo "  $c"; done
echo
echo "Logs: $logs. Press Ctrl-C to stop both."
wait
