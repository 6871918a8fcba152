#!/usr/bin/env bash
# Runs both hessian2 oracles in both directions for inspection (the Rust test
# protocol/tests/hessian_oracles.rs does the checking). Output goes to ./out/:
#   js.encoded.jsonl, java.encoded.jsonl          each oracle's bytes for every case
#   js.decodes.java.jsonl, java.decodes.js.jsonl  each oracle reading the other's bytes
#   js.decodes.js.jsonl, java.decodes.java.jsonl  each oracle reading its own bytes
# Needs node + npm, a JDK and `apt-get install libhessian-java libjackson2-databind-java`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/out"
mkdir -p "$out/classes"

(cd "$here/js" && npm ci --silent --no-audit --no-fund)

jars=/usr/share/java
cp="$jars/hessian.jar:$jars/jackson-databind.jar:$jars/jackson-core.jar:$jars/jackson-annotations.jar"
for jar in ${cp//:/ }; do
  [ -f "$jar" ] || { echo "missing $jar: apt-get install libhessian-java libjackson2-databind-java" >&2; exit 1; }
done
javac -nowarn -d "$out/classes" -cp "$cp" "$here/java/Oracle.java"

js() { (cd "$here/js" && node oracle.js "$@"); }
java_oracle() { java --add-opens java.base/java.lang=ALL-UNNAMED -cp "$out/classes:$cp" Oracle "$@"; }

js encode < "$here/cases.json" > "$out/js.encoded.jsonl"
java_oracle encode < "$here/cases.json" > "$out/java.encoded.jsonl"

# Only lines with bytes can be decoded (drops "skipped"/"error" lines).
with_hex() { grep '"hex"' "$1" || true; }
with_hex "$out/js.encoded.jsonl" | js decode > "$out/js.decodes.js.jsonl"
with_hex "$out/java.encoded.jsonl" | java_oracle decode > "$out/java.decodes.java.jsonl"
with_hex "$out/js.encoded.jsonl" | java_oracle decode > "$out/java.decodes.js.jsonl"
# hessian.js cannot hold every value Caucho writes (see skip_js in cases.json); its errors show up here.
with_hex "$out/java.encoded.jsonl" | js decode > "$out/js.decodes.java.jsonl"

errors=$(grep -l '"error"' "$out"/*.jsonl || true)
same=$(join -j1 <(sed -E 's/^\{"name":"([^"]*)","hex":"([^"]*)".*/\1 \2/' "$out/js.encoded.jsonl" | grep -v '^{' | sort) \
              <(sed -E 's/^\{"name":"([^"]*)","hex":"([^"]*)".*/\1 \2/' "$out/java.encoded.jsonl" | grep -v '^{' | sort) \
         | awk '$2 == $3' | wc -l)
echo "wrote $out"
echo "cases where hessian.js and Caucho wrote identical bytes: $same of $(wc -l < "$out/java.encoded.jsonl")"
if [ -n "$errors" ]; then echo "files with errors:"; echo "$errors"; fi
