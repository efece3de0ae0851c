#!/usr/bin/env bash
# Runs a command under a supported Node.js: the npm scripts (demo, test, bench, ...) go
# through here so that a fresh clone works on a machine whose system Node is older than the
# project's floor (engines: >=22.12).
#
#   EFV_NODE_MAJOR=22 scripts/with-node.sh vitest run   # that LTS major (fetched and cached)
#   scripts/with-node.sh node bin/email-flow-validator.mjs demo
#
# Without EFV_NODE_MAJOR the Node on PATH is used when it is new enough; otherwise the newest
# Node 24 (the Docker image's major) is fetched once by scripts/node-runtime.sh and put first
# on PATH, with a notice on stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ -n "${EFV_NODE_MAJOR:-}" ]]; then
  bin="$("$here/node-runtime.sh" "$EFV_NODE_MAJOR")"
  export PATH="$bin:$PATH"
elif ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null; then
  current="$(node --version 2>/dev/null || echo none)"
  bin="$("$here/node-runtime.sh" 24)"
  printf '[with-node] Node %s is below the supported floor (22.12); using %s\n' "$current" "$("$bin/node" --version)" >&2
  export PATH="$bin:$PATH"
fi
exec "$@"
