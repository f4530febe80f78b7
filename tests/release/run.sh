#!/usr/bin/env bash
# The release tests (scripts/test runs them as a stage of their own; they need no test ground):
#   1. scripts/release builds every archive this machine can build (linux/amd64, linux/arm64,
#      windows/amd64) and the krew manifest for them;
#   2. each archive's binaries run (smoke.sh): linux/arm64 under qemu-user, windows/amd64 under
#      wine;
#   3. a second build of linux/amd64 in an independent target dir gives the same bytes;
#   4. the real krew installs the linux/amd64 archive with the manifest scripts/release wrote,
#      into a temporary KREW_ROOT, and the real kubectl runs and lists the plugin;
#   5. actionlint accepts .github/workflows/, and every platform of plugin.yaml is built here or
#      by the release workflow.
# Tools come from the registries into ~/.cache/kubectl-azwi-release (scripts/release-setup,
# tools.sh); so do the cargo target dirs, so a warm run rebuilds only this crate.
# Prints `ok`/`FAIL` per check and ends with "N passed, N failed"; exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
cache=${AZWI_RELEASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-release}
ground_bin=${AZWI_GROUND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-ground}/bin
start=$(date +%s)
step() { printf '\n== release: %s (+%ss)\n' "$*" "$(($(date +%s) - start))" >&2; }
passed=0
failed=0
ok() { printf 'ok   %s\n' "$*"; passed=$((passed + 1)); }
bad() { printf 'FAIL %s\n' "$*"; failed=$((failed + 1)); }
finish() {
  printf '\nrelease: %s passed, %s failed\n' "$passed" "$failed"
  [ "$failed" = 0 ] || exit 1
  exit 0
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=v$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)

step "tools: linkers, rust targets, qemu-user, wine, shellcheck (apt, rustup); krew and actionlint (Go proxy)"
bash scripts/release-setup --test aarch64-unknown-linux-gnu x86_64-pc-windows-gnu || { bad "release-setup"; finish; }
tools=$(bash tests/release/tools.sh | tail -n 1) || { bad "tools.sh"; finish; }

step "scripts/release: every platform this machine builds"
t0=$(date +%s)
out=$work/a
if nice -n 10 env AZWI_RELEASE_OUT="$out" scripts/release >"$work/release.log" 2>&1; then
  ok "scripts/release ($(($(date +%s) - t0)) s)"
else
  tail -n 40 "$work/release.log"
  bad "scripts/release exited non-zero"
fi
grep '^\[release\]' "$work/release.log"
archive() { echo "$out/kubectl-azwi_${version}_$1"; }
for a in linux_amd64.tar.gz linux_arm64.tar.gz windows_amd64.zip; do
  if [ -s "$(archive "$a")" ]; then ok "built $(basename "$(archive "$a")")"; else bad "no archive $a"; fi
done

step "smoke tests: native, qemu-user, wine"
export WINEPREFIX=$cache/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
smoke() { # archive runner...
  [ -s "$1" ] || return 0
  if bash tests/release/smoke.sh "$@" >"$work/smoke.log" 2>&1; then
    ok "smoke $(basename "$1")"
  else
    bad "smoke $(basename "$1")"
  fi
  cat "$work/smoke.log"
}
smoke "$(archive linux_amd64.tar.gz)"
smoke "$(archive linux_arm64.tar.gz)" qemu-aarch64 -L /usr/aarch64-linux-gnu
# The first wine run in a fresh prefix sets it up (tens of seconds): not the binary's start time.
[ -d "$WINEPREFIX" ] || wine cmd /c exit >/dev/null 2>&1
# Wine 8 (Debian 12) lacks bcryptprimitives.dll, which every Rust .exe imports: a stand-in
# (tests/release/wine/bcryptprimitives.c) built with the mingw gcc goes into the prefix.
shim=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if [ ! -s "$shim" ] || [ tests/release/wine/bcryptprimitives.c -nt "$shim" ]; then
  x86_64-w64-mingw32-gcc -O2 -shared -s -o "$shim" tests/release/wine/bcryptprimitives.c -ladvapi32 ||
    bad "bcryptprimitives.dll stand-in for wine"
fi
smoke "$(archive windows_amd64.zip)" wine
# The oldest glibc the Linux binaries run on: the newest symbol version they reference.
for a in linux_amd64 linux_arm64; do
  [ -s "$(archive "$a.tar.gz")" ] || continue
  floor=$(tar -xzOf "$(archive "$a.tar.gz")" kubectl-azwi | grep -ao 'GLIBC_2\.[0-9]*' | sort -uV | tail -n 1)
  printf 'glibc %s: needs %s or newer\n' "$a" "$floor"
done

step "reproducible: linux/amd64 again, in an independent cargo target dir"
t0=$(date +%s)
if nice -n 10 env AZWI_RELEASE_OUT="$work/b" AZWI_RELEASE_TARGET_DIR="$cache/target-b" \
  scripts/release linux/amd64 >"$work/release-b.log" 2>&1; then
  a=$(sha256sum "$(archive linux_amd64.tar.gz)" | cut -d' ' -f1)
  b=$(sha256sum "$work/b/kubectl-azwi_${version}_linux_amd64.tar.gz" | cut -d' ' -f1)
  if [ "$a" = "$b" ]; then
    ok "linux/amd64 built twice, same sha256 $a ($(($(date +%s) - t0)) s)"
  else
    bad "linux/amd64 built twice: sha256 $a vs $b"
  fi
else
  tail -n 40 "$work/release-b.log"
  bad "second linux/amd64 build"
fi

step "krew: install the linux/amd64 archive with the manifest scripts/release wrote"
bash tests/release/krew.sh "$out/azwi.yaml" "$(archive linux_amd64.tar.gz)" "$tools" "$ground_bin" \
  >"$work/krew.log" 2>&1
krew_rc=$?
cat "$work/krew.log"
if [ "$krew_rc" = 0 ]; then ok "krew install, kubectl azwi, plugin list, uninstall"; else bad "krew"; fi

step "release workflow: actionlint, and a build path for every platform in plugin.yaml"
if "$tools/actionlint" -shellcheck "$(command -v shellcheck)" .github/workflows/*.yml; then
  ok "actionlint $(cat "$tools/actionlint.version") accepts .github/workflows/"
else
  bad "actionlint"
fi
if shellcheck -x scripts/release scripts/release-setup tests/release/*.sh; then
  ok "shellcheck: scripts/release, scripts/release-setup, tests/release/*.sh"
else
  bad "shellcheck"
fi
platforms=$(sed -n 's/^        os: \(.*\)/\1/p; s/^        arch: \(.*\)/\1/p' plugin.yaml | paste -d/ - -)
for p in $platforms; do
  built=$(archive "${p/\//_}.tar.gz")
  [ "${p%/*}" = windows ] && built=$(archive "${p/\//_}.zip")
  if [ -s "$built" ]; then
    ok "$p: built and smoke-tested here"
  elif grep -Eq "platform: $p, runner: [a-z0-9.-]+" .github/workflows/release.yml; then
    ok "$p: built by .github/workflows/release.yml ($(grep -Eo "platform: $p, runner: [a-z0-9.-]+" .github/workflows/release.yml))"
  else
    bad "$p is in plugin.yaml but nothing builds it"
  fi
done
# The manifest scripts/release wrote: every archive built here has its sha256, the rest the
# placeholder krew refuses (the workflow's last job fills them from its archives).
for f in "$out"/kubectl-azwi_*; do
  [ -e "$f" ] || continue
  sum=$(sha256sum "$f" | cut -d' ' -f1)
  if grep -q "sha256: \"$sum\"" "$out/azwi.yaml"; then ok "azwi.yaml has $(basename "$f")'s sha256"; else bad "azwi.yaml lacks $(basename "$f")'s sha256"; fi
done
sizes=$(cd "$out" && for f in kubectl-azwi_*; do printf '%s %s bytes; ' "$f" "$(wc -c <"$f")"; done)
printf 'sizes: %s\n' "$sizes"
step "done"
finish
