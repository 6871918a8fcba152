#!/usr/bin/env bash
# Runs the whole test suite as CI does: installs what the tests need (JDK, Maven, Debian's
# libhessian-java, Node packages), then formatting, lints, and every test, peers included.
# Every peer is started by the tests themselves on 127.0.0.1 and stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# CI runs in a fresh clone on a machine that keeps its home directory: keep Rust build output
# there so a warm run does not rebuild every dependency.
if [ "${CI:-}" = "true" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$HOME/.cache/tianlu/target"
fi

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v javac >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
ls /usr/share/java/hessian*.jar >/dev/null 2>&1 || need_apt+=(libhessian-java)
[ -d /usr/share/zookeeper ] || need_apt+=(zookeeper)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${need_apt[*]} (apt)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

step "installing the Nacos server for the registry tests (rnacos; ~16 minutes the first time, cached after)"
RNACOS_ROOT="$HOME/.cache/tianlu/rnacos"
if [ ! -x "$RNACOS_ROOT/bin/rnacos" ]; then
  cargo install --locked rnacos --version 0.8.8 --root "$RNACOS_ROOT"
fi
export TIANLU_RNACOS="$RNACOS_ROOT/bin/rnacos"

step "building the Java interop provider (Maven)"
bash tests/interop/build.sh

step "installing the hessian.js oracle (npm)"
(cd tests/interop/oracles/js && npm ci --silent --no-audit --no-fund >/dev/null 2>&1 || npm ci --no-audit --no-fund)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "quickstart (the README's first command, with its curl lines checked)"
bash samples/quickstart/run.sh --check

step "fuzzing the hessian2 and Dubbo frame decoders and the generic JSON paths (bounded)"
if rustup run nightly rustc --version >/dev/null 2>&1; then
  command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
  for target in hessian2_decode dubbo_frame generic_json; do
    (cd fuzz && cargo +nightly fuzz run "$target" -- -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=1024)
  done
else
  echo "FUZZING NOT RUN: the nightly Rust toolchain is missing here (rustup toolchain install nightly)."
  echo "The decoders' property tests (protocol/tests, random and mutated inputs) ran above."
fi
