#!/usr/bin/env bash
# Installs kcat (Debian package; librdkafka inside), which `npm run bench` needs for its ceiling
# contender and to read result timestamps. Idempotent: does nothing when kcat is there.
set -euo pipefail
if command -v kcat >/dev/null 2>&1; then
  kcat -V 2>&1 | grep -m1 Version || true
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "kcat is missing; run as root: apt-get update && apt-get install -y kcat" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq kcat >/dev/null
kcat -V 2>&1 | grep -m1 Version
