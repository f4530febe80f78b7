#!/usr/bin/env bash
# Builds the Go half of the test ground from the Go module proxy into a cache outside the repo:
# kube-apiserver + kubectl, etcd, kwok, the Azure Workload Identity webhook (two versions) and
# krew's manifest validator. Each binary is stamped with its version; a warm run does nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v go >/dev/null || die "go is not installed: install Go >= 1.25 (the ground builds from the Go module proxy)"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
# The checksum database reachable here has no record of azure-workload-identity v1.5.1 (404):
# trust the module proxy's copy for that module only.
export GONOSUMDB=github.com/Azure/azure-workload-identity
mkdir -p "$GROUND_BIN" "$GROUND_CACHE/src"
only=${1:-all}

stamp_ok() { [ -x "$GROUND_BIN/$1" ] && [ "$(cat "$GROUND_BIN/$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$GROUND_BIN/$1.version"; }
want() { [ "$only" = all ] || [ "$only" = "$1" ]; }

# kube-apiserver and kubectl: k8s.io/kubernetes replaces its staging modules with local paths,
# which `go install` refuses, so a wrapper module maps each to the matching v0.X.Y release.
build_kube() {
  stamp_ok kube-apiserver "$KUBE_VERSION" && stamp_ok kube-controller-manager "$KUBE_VERSION" && stamp_ok kubectl "$KUBE_VERSION" && return
  local v=$KUBE_VERSION minor=${KUBE_VERSION#v1.} w=$GROUND_CACHE/src/kube-$KUBE_VERSION
  minor=${minor%%.*}
  log "building kube-apiserver, kube-controller-manager and kubectl $v (cold: 15-25 min on 2 cores)"
  mkdir -p "$w"
  go mod download -json "k8s.io/kubernetes@$v" >"$w/dl.json"
  local gomod
  gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' "$w/dl.json")
  {
    echo "module azwi-ground/kube"
    echo "go 1.25"
    echo "require k8s.io/kubernetes $v"
    echo "replace ("
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod" | while read -r m; do
      echo "  $m => $m v0.${v#v1.}"
    done
    echo ")"
  } >"$w/go.mod"
  local pkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version
  local ld="-s -w"
  for p in $pkg $cpkg; do
    ld="$ld -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$w" && go build -trimpath -ldflags "$ld" -o "$GROUND_BIN/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl)
  stamp kube-apiserver "$v"; stamp kube-controller-manager "$v"; stamp kubectl "$v"
}

# etcd's own modules use relative replaces too; a three-line main over etcdmain avoids them.
build_etcd() {
  stamp_ok etcd "$ETCD_VERSION" && return
  local w=$GROUND_CACHE/src/etcd-$ETCD_VERSION
  log "building etcd $ETCD_VERSION"
  mkdir -p "$w"
  cat >"$w/go.mod" <<EOM
module azwi-ground/etcd
go 1.25
require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOM
  cat >"$w/main.go" <<'EOM'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOM
  (cd "$w" && go mod tidy >/dev/null 2>&1 || true; go build -trimpath -ldflags "-s -w" -o "$GROUND_BIN/etcd" .)
  stamp etcd "$ETCD_VERSION"
}

# Everything else builds inside a small wrapper module pinned to the release: unlike
# `go install pkg@version`, that never asks the proxy for the module's version list (which the
# proxy refuses for some modules, e.g. azure-workload-identity).
install_mod() { # name version module package [ldflags]
  stamp_ok "$1" "$2" && return
  log "building $1 $2"
  local w=$GROUND_CACHE/src/$1-$2
  mkdir -p "$w"
  printf 'module azwi-ground/%s\ngo 1.25\nrequire %s %s\n' "$1" "$3" "$2" >"$w/go.mod"
  # The proxy refuses monis.app/mlog (the webhook's logger): build against the ground's stand-in.
  if [ "$3" = github.com/Azure/azure-workload-identity ]; then
    rm -rf "$w/mlog-shim"; cp -r "$GROUND_DIR/mlog-shim" "$w/mlog-shim"
    printf 'replace monis.app/mlog => ./mlog-shim\n' >>"$w/go.mod"
  fi
  (cd "$w" && go mod download "$3" && go build -trimpath -ldflags "-s -w ${5:-}" -o "$GROUND_BIN/$1" "$4")
  stamp "$1" "$2"
}

awi=github.com/Azure/azure-workload-identity
want kube && build_kube
want etcd && build_etcd
want kwok && install_mod kwok "$KWOK_VERSION" sigs.k8s.io/kwok sigs.k8s.io/kwok/cmd/kwok
want webhook && install_mod azwi-webhook "$AZWI_VERSION" $awi $awi/cmd/webhook "-X $awi/pkg/version.BuildVersion=$AZWI_VERSION"
want webhook && install_mod azwi-webhook-old "$AZWI_OLD_VERSION" $awi $awi/cmd/webhook "-X $awi/pkg/version.BuildVersion=$AZWI_OLD_VERSION"
want krew && install_mod validate-krew-manifest "$KREW_VERSION" sigs.k8s.io/krew sigs.k8s.io/krew/cmd/validate-krew-manifest
log "ground binaries ready in $GROUND_BIN"
