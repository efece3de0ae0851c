#!/usr/bin/env bash
# Installs the tools that check the deployment files (test/deploy): a real `helm` and a
# real Docker Compose v2, both built from their Go modules (only the Go module proxy is
# reachable here, so no release tarballs), and test/deploy/kube-check, which decodes
# rendered manifests strictly into the Kubernetes API types. Needs Go >= 1.26 on PATH.
#
# Binaries are cached under $EFV_TOOLS_DIR (default ~/.cache/email-flow-validator/bin), one
# file per pinned version plus a plain-named symlink to it, so a second run costs nothing
# and bumping a pin rebuilds. Progress goes to stderr; exits non-zero if a build fails.
#
#   scripts/install-deploy-tools.sh            # helm + compose + kube-check
#   scripts/install-deploy-tools.sh helm       # only helm
#   scripts/install-deploy-tools.sh compose    # only compose
#   scripts/install-deploy-tools.sh kube-check # only kube-check
#   scripts/install-deploy-tools.sh --print-dir
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.21.4}"
COMPOSE_VERSION="${COMPOSE_VERSION:-v2.40.3}"
TOOLS_DIR="${EFV_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/email-flow-validator/bin}"

log() { printf '[install-deploy-tools] %s\n' "$*" >&2; }

if [[ "${1:-}" == "--print-dir" ]]; then
  printf '%s\n' "$TOOLS_DIR"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "go is required (a Go toolchain >= 1.26 on PATH)"
  exit 1
fi

# Static binaries (no C toolchain needed), reproducible paths, stripped symbols.
export CGO_ENABLED=0

cached() {
  local name="$1" version="$2"
  if [[ -x "$TOOLS_DIR/$name-$version" ]]; then
    ln -sfn "$name-$version" "$TOOLS_DIR/$name"
    log "$name $version already cached at $TOOLS_DIR/$name-$version"
    return 0
  fi
  return 1
}

# The binary is built in a scratch folder and moved into place whole, so a half-built file
# never sits where the tests look.
publish() {
  local name="$1" version="$2" built="$3" started="$4"
  mkdir -p "$TOOLS_DIR"
  mv "$built" "$TOOLS_DIR/$name-$version"
  ln -sfn "$name-$version" "$TOOLS_DIR/$name"
  log "built $name $version in $((SECONDS - started))s -> $TOOLS_DIR/$name-$version"
}

install_helm() {
  cached helm "$HELM_VERSION" && return 0
  local scratch started=$SECONDS
  scratch="$(mktemp -d)"
  log "building helm $HELM_VERSION: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (about 3-4 min on 2 cores)"
  # Stamp what helm's Makefile stamps in a release: its version, and the Kubernetes version
  # it assumes offline (client-go v0.X → v1.X), which `helm template` checks a chart's
  # kubeVersion against. Unstamped, helm claims Kubernetes v1.20 and says only "v3.21".
  local gomod k8s_minor
  gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  k8s_minor="$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod")"
  if [[ -z "$k8s_minor" ]]; then
    log "could not read the client-go version from helm's go.mod ($gomod)"
    exit 1
  fi
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  local pkg
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
  done
  GOBIN="$scratch" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  publish helm "$HELM_VERSION" "$scratch/helm" "$started"
  rm -rf "$scratch"
}

# Compose's go.mod has `exclude` directives, which `go install pkg@version` refuses, so the
# module is downloaded from the proxy and built as the main module (its go.mod and go.sum
# then apply exactly as in an upstream release build).
install_compose() {
  cached docker-compose "$COMPOSE_VERSION" && return 0
  local scratch dir started=$SECONDS
  scratch="$(mktemp -d)"
  log "building docker compose $COMPOSE_VERSION from github.com/docker/compose/v2@$COMPOSE_VERSION (about 4-6 min on 2 cores)"
  dir="$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  if [[ -z "$dir" || ! -d "$dir/cmd" ]]; then
    log "could not download github.com/docker/compose/v2@$COMPOSE_VERSION"
    exit 1
  fi
  (cd "$dir" && GOFLAGS=-mod=readonly go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
    -o "$scratch/docker-compose" ./cmd)
  publish docker-compose "$COMPOSE_VERSION" "$scratch/docker-compose" "$started"
  rm -rf "$scratch"
}

# Our own checker: cached under a hash of its sources, so an edit rebuilds it.
install_kube_check() {
  local src version scratch started=$SECONDS
  src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../test/deploy/kube-check" && pwd)"
  version="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)"
  cached kube-check "$version" && return 0
  scratch="$(mktemp -d)"
  log "building kube-check $version from test/deploy/kube-check (about 1 min on 2 cores)"
  (cd "$src" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$scratch/kube-check" .)
  publish kube-check "$version" "$scratch/kube-check" "$started"
  rm -rf "$scratch"
}

case "${1:-all}" in
  helm) install_helm ;;
  compose) install_compose ;;
  kube-check) install_kube_check ;;
  all)
    install_helm
    install_compose
    install_kube_check
    ;;
  *)
    log "unknown tool '$1' (helm | compose | kube-check | all | --print-dir)"
    exit 2
    ;;
esac
