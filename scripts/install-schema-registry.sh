#!/usr/bin/env bash
# A real Confluent-compatible Schema Registry for the tests: Apicurio Registry's Quarkus
# distribution (its ccompat API at /apis/ccompat/v7), from Maven Central, run with the
# machine's Java 17. Karapace, the first choice, has no distribution on PyPI.
# Cached; prints the folder holding the runner jar.
set -euo pipefail
version="${APICURIO_VERSION:-2.6.13.Final}"
cache="${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/email-flow-validator}"
dir="$cache/apicurio-registry-$version"
jar="$dir/apicurio-registry-app-$version-runner.jar"
if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$version:tar.gz:all" \
    -DoutputDirectory="$dir" -Dmdep.stripVersion=false >&2
  tar xzf "$dir/apicurio-registry-app-$version-all.tar.gz" -C "$dir"
  rm -f "$dir/apicurio-registry-app-$version-all.tar.gz"
  test -f "$jar"
  date -u +%FT%TZ > "$dir/.complete"
fi
echo "$dir"
