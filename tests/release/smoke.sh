#!/usr/bin/env bash
# Smoke test of one release archive: unpacks it and runs its binaries, natively or under an
# emulator given after the archive, and checks what a user first sees. Prints one `ok`/`FAIL`
# line per check and the start time of `version` (median wall time of 7 runs).
#
#   tests/release/smoke.sh kubectl-azwi_v0.1.0_linux_amd64.tar.gz
#   tests/release/smoke.sh kubectl-azwi_v0.1.0_linux_arm64.tar.gz qemu-aarch64 -L /usr/aarch64-linux-gnu
#   tests/release/smoke.sh kubectl-azwi_v0.1.0_windows_amd64.zip wine
#
# Expected values come from the repository, not from the binary: the commit and its time from
# git, the version from Cargo.toml, the PowerShell script from completions/, the exit codes from
# the README. Exits 1 when a check failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
archive=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
run=("$@")
py=$(command -v python3 || command -v python || echo python3)
failed=0
passed=0
ok() { printf 'ok   %s\n' "$*"; passed=$((passed + 1)); }
bad() { printf 'FAIL %s\n' "$*"; failed=$((failed + 1)); }
check() { # name condition-command...
  local name=$1
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}

name=$(basename "$archive")
name=${name%.tar.gz}
name=${name%.zip}
platform=${name#kubectl-azwi_v*_}  # os_arch
os=${platform%_*}
arch=${platform#*_}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)
exe=""
[ "$os" = windows ] && exe=.exe

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case $archive in
  *.zip) "$py" -m zipfile -e "$archive" "$work" ;;
  *) tar -xzf "$archive" -C "$work" ;;
esac
# zipfile does not restore modes; the archive's own modes are checked below from its listing.
chmod +x "$work/kubectl-azwi$exe" "$work/kubectl_complete-azwi$exe" 2>/dev/null

listing=$(cd "$work" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' ')
expected="LICENSE README.md $(cd "$repo" && find completions -type f | tr '\n' ' ')kubectl-azwi$exe kubectl_complete-azwi$exe "
expected=$(tr ' ' '\n' <<<"$expected" | grep . | LC_ALL=C sort | tr '\n' ' ')
if [ "$listing" = "$expected" ]; then ok "$name: holds $listing"; else bad "$name: holds $listing, expected $expected"; fi

modes=$("$py" - "$archive" <<'EOF'
import sys, tarfile, zipfile
a = sys.argv[1]
if a.endswith(".zip"):
    rows = [(i.filename, (i.external_attr >> 16) & 0o777) for i in zipfile.ZipFile(a).infolist()]
else:
    rows = [(m.name, m.mode) for m in tarfile.open(a).getmembers()]
print(" ".join(f"{n}={m:o}" for n, m in rows if n.startswith("kubectl")))
EOF
)
check "$name: binaries are executable in the archive ($modes)" \
  test "$modes" = "kubectl-azwi$exe=755 kubectl_complete-azwi$exe=755"

# The machine the binary is for, from its header: ELF e_machine, or PE's machine after "PE\0\0".
bin=$work/kubectl-azwi$exe
machine() {
  if [ "$os" = windows ]; then
    local pe
    pe=$(od -An -tu4 -j60 -N4 "$bin" | tr -d ' ')
    od -An -tx2 -j$((pe + 4)) -N2 "$bin" | tr -d ' '
  elif [ "$os" = darwin ]; then
    od -An -tx4 -j4 -N4 "$bin" | tr -d ' '
  else
    od -An -tx2 -j18 -N2 "$bin" | tr -d ' '
  fi
}
case $os/$arch in
  linux/amd64) want=003e ;;
  linux/arm64) want=00b7 ;;
  windows/amd64) want=8664 ;;
  windows/arm64) want=aa64 ;;
  darwin/amd64) want=01000007 ;;
  darwin/arm64) want=0100000c ;;
  *) want=unknown ;;
esac
got=$(machine)
check "$name: kubectl-azwi$exe is a $os/$arch executable (machine $got)" test "$got" = "$want"

# ${run[@]+...}: an empty array is "unbound" to macOS's bash 3.2.
azwi() { ${run[@]+"${run[@]}"} "$bin" "$@"; }

out=$(azwi --help 2>&1)
code=$?
check "$name: --help exits 0 and shows the usage" \
  test "$code" = 0 -a -n "$(grep -F 'Usage: kubectl azwi' <<<"$out")"

commit=$(git -C "$repo" rev-parse --short=12 HEAD)
date=$(TZ=UTC git -C "$repo" log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)
case $os/$arch in
  linux/amd64) target_re='x86_64-unknown-linux-[a-z]+' ;;
  linux/arm64) target_re='aarch64-unknown-linux-[a-z]+' ;;
  windows/amd64) target_re='x86_64-pc-windows-(gnu|msvc)' ;;
  windows/arm64) target_re='aarch64-pc-windows-(gnullvm|msvc)' ;;
  darwin/amd64) target_re='x86_64-apple-darwin' ;;
  darwin/arm64) target_re='aarch64-apple-darwin' ;;
esac
line_re="^kubectl-azwi v$version \\(commit $commit, built $date, $target_re\\)\$"
out=$(azwi version 2>&1 | tr -d '\r')
code=$?
if [ "$code" = 0 ] && grep -Eq "$line_re" <<<"$out"; then
  ok "$name: version: $out"
else
  bad "$name: version exited $code: '$out', expected /$line_re/"
fi
out=$(azwi --version 2>&1 | tr -d '\r')
if grep -Eq "$line_re" <<<"$out"; then ok "$name: --version: $out"; else bad "$name: --version: '$out', expected /$line_re/"; fi
json=$(azwi version -o json 2>&1)
check "$name: version -o json carries the commit and date" \
  test -n "$(grep -F "\"gitCommit\": \"$commit\"" <<<"$json")" -a -n "$(grep -F "\"buildDate\": \"$date\"" <<<"$json")"

# README, Exit codes: 2 is a usage error. A bare name where KIND/NAME is wanted is one, found
# before any cluster or Azure is asked.
err=$(azwi doctor quick-start 2>&1 >/dev/null | tr -d '\r')
code=$?
if [ "$code" = 2 ] && grep -qF 'did you mean pod/quick-start?' <<<"$err"; then
  ok "$name: bad input exits 2 with a hint"
else
  bad "$name: doctor quick-start exited $code: $err"
fi
err=$(azwi no-such-command 2>&1 >/dev/null)
code=$?
check "$name: an unknown subcommand exits 2" test "$code" = 2

azwi completion powershell >"$work/ps1" 2>"$work/ps1.err"
code=$?
check "$name: completion powershell exits 0 and prints completions/kubectl-azwi.ps1" \
  cmp -s "$work/ps1" "$repo/completions/kubectl-azwi.ps1"
[ "$code" = 0 ] || bad "$name: completion powershell exited $code: $(cat "$work/ps1.err")"

# kubectl runs the completion helper with the words after `kubectl azwi`.
out=$(${run[@]+"${run[@]}"} "$work/kubectl_complete-azwi$exe" 'do' 2>&1 | tr -d '\r')
check "$name: kubectl_complete-azwi completes 'do' to doctor" test -n "$(grep -x 'doctor.*' <<<"$out")"

# Start time: `version` does no I/O beyond printing, so this is the binary's own start cost
# (plus the emulator's, when there is one).
# Timed in python: portable (BSD date has no %N) and not counting a shell's fork of `date`.
timing=$("$py" - ${run[@]+"${run[@]}"} "$bin" version <<'EOF'
import statistics, subprocess, sys, time
argv = sys.argv[1:]
runs = []
for _ in range(7):
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    runs.append((time.perf_counter() - t0) * 1000)
print(f"{statistics.median(runs):.1f} ms (runs: {' '.join(f'{r:.1f}' for r in runs)})")
EOF
)
size=$(wc -c <"$archive" | tr -d ' ')
under=""
[ ${#run[@]} = 0 ] || under=" under ${run[0]}"
printf 'time %s: archive %s bytes, binary %s bytes, version wall time median %s%s\n' \
  "$name" "$size" "$(wc -c <"$bin" | tr -d ' ')" "${timing:-failed}" "$under"
printf '%s: %s passed, %s failed\n' "$name" "$passed" "$failed"
[ "$failed" = 0 ]
