#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's `prometheus` package, for the alert-rule unit
# tests (promtool test rules) and the dashboard test, which scrapes a real processor with a
# real Prometheus (test/deploy). Idempotent: does nothing when both binaries are on PATH at
# the pinned major version; otherwise apt-get installs the package (needs root or sudo).
#
#   scripts/install-prometheus.sh           # install if missing
#   scripts/install-prometheus.sh --check   # exit 1 if missing, install nothing
set -euo pipefail

log() { printf '[install-prometheus] %s\n' "$*" >&2; }

# Prometheus 2.x: the rule file and unit test formats the tests use.
have() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 &&
    promtool --version 2>&1 | grep -q 'version 2\.'
}

if have; then
  log "$(promtool --version 2>&1 | head -1) already installed"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  log "prometheus/promtool not installed: run bash scripts/install-prometheus.sh"
  exit 1
fi

sudo=()
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    log "needs root (or sudo) to apt-get install prometheus"
    exit 1
  fi
  sudo=(sudo)
fi

log "apt-get install prometheus (Debian package; ships prometheus and promtool)"
export DEBIAN_FRONTEND=noninteractive
# Only the binaries are used: the tests start their own Prometheus on loopback, so the
# package's service is neither enabled nor started (no init system in CI containers anyway).
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
if ! have; then
  log "prometheus was installed but promtool 2.x is not on PATH"
  exit 1
fi
log "installed $(promtool --version 2>&1 | head -1)"
