#!/usr/bin/env bash
# Installs microsocks (Debian package), the SOCKS5 server with username/password
# authentication that test/validation/smtp-socks.test.ts runs on loopback to prove
# SMTP_PROXY. Idempotent: does nothing when microsocks is there.
set -euo pipefail
if command -v microsocks >/dev/null 2>&1; then
  echo "microsocks $(command -v microsocks)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "microsocks is missing; run as root: apt-get update && apt-get install -y microsocks" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq microsocks >/dev/null
echo "microsocks $(command -v microsocks)"
