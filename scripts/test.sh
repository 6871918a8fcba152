#!/usr/bin/env bash
# Runs the whole test suite as CI does: installs what the tests need (JDK, Maven, Debian's
# libhessian-java, Node packages), then formatting, lints, and every test, peers included.
# Every peer is started by the tests themselves on 127.0.0.1 and stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v javac >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
ls /usr/share/java/hessian*.jar >/dev/null 2>&1 || need_apt+=(libhessian-java)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${need_apt[*]} (apt)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

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
