#!/usr/bin/env bash
# Builds the Java interop provider (tests/interop) with Maven, unless it is already up to date.
# Artifacts: target/classes + target/lib/*.jar; run with
#   java -cp "$DIR/target/classes:$DIR/target/lib/*" org.tianlu.interop.ProviderMain --dubbo-port N
# Needs Java 17 and Maven (apt-get install openjdk-17-jdk-headless maven).
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STAMP="$DIR/target/.tianlu-built"

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool not found; Java 17 and Maven are required: apt-get install openjdk-17-jdk-headless maven" >&2
    exit 1
  fi
done

up_to_date() {
  [[ -f "$STAMP" && -d "$DIR/target/lib" && -d "$DIR/target/classes" ]] || return 1
  # any source, resource or the pom newer than the stamp means a rebuild
  [[ -z "$(find "$DIR/pom.xml" "$DIR/src" -newer "$STAMP" -print -quit)" ]]
}

if up_to_date; then
  echo "interop provider up to date"
else
  echo "building interop provider (mvn package)..." >&2
  rm -f "$STAMP"
  rm -rf "$DIR/target/lib"  # copy-dependencies never removes jars the pom no longer needs
  (cd "$DIR" && mvn -q -B package -DskipTests)
  touch "$STAMP"
fi
echo "classes:   $DIR/target/classes"
echo "libs:      $DIR/target/lib"
echo "classpath: $DIR/target/classes:$DIR/target/lib/*"
echo "main:      org.tianlu.interop.ProviderMain"
