#!/usr/bin/env bash
# Builds the benchmark's Java peer (bench/parallel-consumer: Confluent's Parallel Consumer, the
# contenders pc-copy and pc-slow) into one shaded jar with `mvn -q package`, once per source:
# the jar is cached under ~/.cache/email-flow-validator/parallel-consumer-<hash of the sources>/
# (KAFKA_CACHE_DIR or XDG_CACHE_HOME move it, as for the broker jars). Needs Java 17 and Maven
# (Maven Central reachable on the first build). Prints the jar's path; idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/parallel-consumer"
schema="$here/../schemas/SignupEvent.avsc"
cache="${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/email-flow-validator}"
hash="$(cat "$src/pom.xml" "$src/src/main/java/bench/Main.java" "$schema" | sha256sum | cut -c1-12)"
out="$cache/parallel-consumer-$hash"
jar="$out/pc-bench.jar"
if [ -f "$jar" ]; then
  echo "$jar"
  exit 0
fi
for tool in java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: the Parallel Consumer contenders need Java 17 and Maven" >&2; exit 1; }
done
# Built in a scratch copy, so the work tree gets no target/ folder.
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
cp -r "$src/." "$build/"
mkdir -p "$build/src/main/resources"
cp "$schema" "$build/src/main/resources/SignupEvent.avsc"
echo "building the Parallel Consumer contender (mvn -q package; once, cached in $out)" >&2
mvn -q -B -f "$build/pom.xml" package -DskipTests >&2
mkdir -p "$out"
cp "$build/target/pc-bench.jar" "$jar.tmp"
mv "$jar.tmp" "$jar"
echo "$jar"
