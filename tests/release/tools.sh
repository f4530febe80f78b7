#!/usr/bin/env bash
# Builds the Go tools the release tests run, from the Go module proxy, into a cache outside the
# repo (~/.cache/kubectl-azwi-release/bin): krew itself (kubectl-krew, the version the ground's
# manifest validator is built from) and actionlint. Each binary is stamped with its version; a
# warm run does nothing. Prints the bin directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/../ground/versions.env"
ACTIONLINT_VERSION=v1.7.12
cache=${AZWI_RELEASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-release}
bin=$cache/bin
mkdir -p "$bin" "$cache/src"
command -v go >/dev/null || { echo "tools.sh: go is not installed (the tools build from the Go module proxy)" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

# name version module package: built inside a wrapper module pinned to the version (the way
# tests/ground/build.sh builds, which never asks the proxy for a module's version list).
install_mod() {
  [ -x "$bin/$1" ] && [ "$(cat "$bin/$1.version" 2>/dev/null)" = "$2" ] && return
  printf '[release tools] building %s %s\n' "$1" "$2" >&2
  local w=$cache/src/$1-$2
  mkdir -p "$w"
  printf 'module azwi-release/%s\ngo 1.25\nrequire %s %s\n' "$1" "$3" "$2" >"$w/go.mod"
  (cd "$w" && go mod download "$3" && go build -trimpath -ldflags "-s -w" -o "$bin/$1" "$4")
  echo "$2" >"$bin/$1.version"
}

install_mod kubectl-krew "$KREW_VERSION" sigs.k8s.io/krew sigs.k8s.io/krew/cmd/krew
install_mod actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint github.com/rhysd/actionlint/cmd/actionlint
echo "$bin"
