#!/usr/bin/env bash
# Installs the plugin as a user would with krew, offline: the real krew (kubectl-krew) installs
# ARCHIVE with MANIFEST into a temporary KREW_ROOT, the real kubectl then runs `kubectl azwi
# version` and lists the plugin, and krew uninstalls it again. krew checks the archive's sha256
# against the manifest, so this fails unless the manifest is the one made for this archive.
#
#   tests/release/krew.sh MANIFEST ARCHIVE TOOLS_BIN GROUND_BIN
set -uo pipefail
manifest=$1 archive=$2 tools=$3 ground=$4
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failed=0
fail() { printf 'FAIL %s\n' "$*"; failed=1; }
pass() { printf 'ok   %s\n' "$*"; }
# krew wants its manifest named after the plugin; kubectl finds krew and the plugins on PATH.
cp "$manifest" "$root/azwi.yaml"
export KREW_ROOT=$root/krew HOME=$root/home KUBECONFIG=$root/none
mkdir -p "$HOME"
# On PATH: krew's bin dir and krew itself, nothing else named kubectl-* (the tools' cache also
# holds version stamps, which kubectl plugin list would warn about).
mkdir -p "$root/path"
ln -s "$tools/kubectl-krew" "$root/path/kubectl-krew"
export PATH=$KREW_ROOT/bin:$root/path:/usr/bin:/bin
kubectl=$ground/kubectl
[ -x "$kubectl" ] || { echo "FAIL no kubectl at $kubectl: run tests/ground/build.sh kube"; exit 1; }

# krew's list and uninstall want a plugin index: a local git one holding the same manifest, added
# as `kubectl krew index add` adds any (the README's custom-index route), without network.
mkdir -p "$root/index/plugins"
cp "$manifest" "$root/index/plugins/azwi.yaml"
git -C "$root/index" init -q
git -C "$root/index" add plugins
git -C "$root/index" -c user.name=test -c user.email=test@localhost commit -qm index
if "$kubectl" krew index add local "$root/index" >/dev/null 2>&1; then
  pass "kubectl krew index add local (a git index with plugins/azwi.yaml)"
else
  fail "krew index add: $("$kubectl" krew index add local "$root/index" 2>&1)"
fi
found=$("$kubectl" krew search azwi 2>&1)
if grep -q '^local/azwi ' <<<"$found"; then pass "kubectl krew search finds local/azwi"; else fail "krew search: $found"; fi

# krew checks the archive against the manifest: one whose sha256 is not this archive's is refused.
sum=$(sha256sum "$archive" | cut -d' ' -f1)
sed "s/$sum/$(printf '0%.0s' $(seq 64))/" "$root/azwi.yaml" >"$root/wrong.yaml"
mkdir -p "$root/wrong" && cp "$root/wrong.yaml" "$root/wrong/azwi.yaml"
refused=$("$kubectl" krew install --manifest="$root/wrong/azwi.yaml" --archive="$archive" </dev/null 2>&1)
if grep -q "$sum" "$root/azwi.yaml" && grep -q "checksum does not match" <<<"$refused"; then
  pass "krew refuses the archive under a manifest without its sha256"
else
  fail "the manifest lacks the archive's sha256 $sum, or krew installed it under a wrong one"
fi
if "$kubectl" krew install --manifest="$root/azwi.yaml" --archive="$archive" </dev/null; then
  pass "kubectl krew install --manifest=azwi.yaml --archive=$(basename "$archive")"
else
  fail "krew install"
fi
if [ -L "$KREW_ROOT/bin/kubectl-azwi" ]; then
  pass "krew linked kubectl-azwi into \$KREW_ROOT/bin"
else
  fail "no kubectl-azwi link in $KREW_ROOT/bin: $(ls -la "$KREW_ROOT/bin" 2>&1)"
fi

commit=$(git rev-parse --short=12 HEAD)
out=$("$kubectl" azwi version 2>&1)
if grep -q "^kubectl-azwi v.* (commit $commit, built " <<<"$out"; then
  pass "kubectl azwi version: $out"
else
  fail "kubectl azwi version: $out"
fi
list=$("$kubectl" plugin list 2>&1)
if grep -qx "$KREW_ROOT/bin/kubectl-azwi" <<<"$list"; then
  pass "kubectl plugin list shows $KREW_ROOT/bin/kubectl-azwi"
else
  fail "kubectl plugin list: $list"
fi
installed=$("$kubectl" krew list 2>&1)
# krew names a plugin installed from a manifest file, not from an index, "detached/".
if grep -qx detached/azwi <<<"$installed"; then pass "kubectl krew list: detached/azwi"; else fail "krew list: $installed"; fi
# Everything the manifest's files: lists arrived, the completion helper beside the plugin.
dir=$(dirname "$(readlink -f "$KREW_ROOT/bin/kubectl-azwi")")
for f in kubectl_complete-azwi LICENSE completions/kubectl-azwi.ps1; do
  if [ -e "$dir/$f" ]; then pass "installed $f"; else fail "not installed: $f (in $dir: $(ls "$dir"))"; fi
done

if "$kubectl" krew uninstall azwi; then pass "kubectl krew uninstall azwi"; else fail "krew uninstall"; fi
if [ ! -e "$KREW_ROOT/bin/kubectl-azwi" ]; then pass "uninstall removed the link"; else fail "link left after uninstall"; fi
list=$("$kubectl" plugin list 2>&1)
if grep -q '/kubectl-azwi$' <<<"$list"; then fail "still listed after uninstall: $list"; else pass "no longer listed"; fi
exit "$failed"
