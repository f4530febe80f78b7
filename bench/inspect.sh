#!/usr/bin/env bash
# `kubectl azwi inspect -A --no-azure -o json` against the physical limit: the API server's own
# time to serve the same two lists (ServiceAccounts, pods) to a client that only reads bytes
# (bench/rawlist.py), in the same run, interleaved, as ratios. Scales are namespaces of 100
# ServiceAccounts and 1,000 production-size pods each (bench/fleet.sh).
#
# Per scale, RUNS rounds; each round runs, in rotated order:
#   inspect        the plugin (process start, kubeconfig, TLS, discovery, webhook reads included)
#   pb-rv0/json-rv0  raw: one unpaginated response per list from the watch cache (resourceVersion=0)
#   pb-paged       raw: the requests inspect makes (pages of PAGE, continue tokens, consistent reads)
# and the medians are printed with the ratios inspect/pb-rv0 and inspect/pb-paged. RSS is the
# kernel's max RSS of the inspect process (wait4, what /usr/bin/time -v reports).
# Goals at 20 namespaces: inspect <= 1.3x pb-rv0 and < 1 s; RSS < 100 MB at 100 namespaces.
#
#   bench/inspect.sh                         # starts its own ground, stops it at the end
#   AZWI_GROUND_DIR=DIR bench/inspect.sh     # uses a running ground (the bench namespaces stay)
#   AZWI_BIN=path/to/kubectl-azwi            # default: cargo build --release
#   SCALES="5 10 20 100" RUNS=5 PAGE=...      # PAGE: default read from src/cmd/inspect.rs
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
SCALES=${SCALES:-"5 10 20"}
PAGE=${PAGE:-$(sed -n 's/^const PAGE: u32 = \([0-9_]*\);/\1/p' "$REPO/src/cmd/inspect.rs" | tr -d _)}

if [[ -z "${AZWI_GROUND_DIR:-}" ]]; then
  AZWI_GROUND_DIR=$(bash "$REPO/tests/ground/up.sh" --owner-pid $$ | tail -1)
  trap 'bash "$REPO/tests/ground/down.sh" "$AZWI_GROUND_DIR" >/dev/null 2>&1 || true' EXIT
fi
set -a; . "$AZWI_GROUND_DIR/env"; set +a
export KUBECTL=$AZWI_GROUND_KUBECTL
if [[ -z "${AZWI_BIN:-}" ]]; then
  (cd "$REPO" && cargo build --release --quiet --bin kubectl-azwi)
  AZWI_BIN="$REPO/target/release/kubectl-azwi"
fi
PKI=$AZWI_GROUND_DIR/pki
RAW=(python3 "$REPO/bench/rawlist.py" "$AZWI_GROUND_APISERVER" "$PKI/ca.crt" "$PKI/admin.crt" "$PKI/admin.key")

# rounds -> one line per variant: "name median_s [max_rss_mb|bytes] requests"
rounds() {
  python3 - "$RUNS" "$PAGE" "$AZWI_BIN" "${RAW[@]}" <<'PY'
import os, subprocess, sys, time
runs, page, azwi, raw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
def inspect():
    t = time.monotonic()
    p = subprocess.Popen([azwi, "inspect", "-A", "--no-azure", "-o", "json"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"inspect failed: {status}")
    # extra: max RSS MB / user+system CPU seconds (how much of the wall is the client's work)
    return time.monotonic() - t, f"{ru.ru_maxrss / 1024:.0f}/{ru.ru_utime + ru.ru_stime:.2f}", "-"
def rawlist(enc, mode):
    def run():
        s, size, reqs = subprocess.run(raw + [enc, mode], check=True, capture_output=True,
                                       text=True).stdout.split()
        return float(s), f"{int(size) / 1e6:.0f}MB", reqs
    return run
variants = {"inspect": inspect, "pb-rv0": rawlist("protobuf", "rv0"),
            "json-rv0": rawlist("json", "rv0"), "pb-paged": rawlist("protobuf", page)}
names = list(variants)
got = {n: [] for n in names}
for r in range(runs):
    for n in names[r % len(names):] + names[:r % len(names)]:
        got[n].append(variants[n]())
for n in names:
    walls = sorted(g[0] for g in got[n])
    if n == "inspect":
        rss = max(int(g[1].split("/")[0]) for g in got[n])
        cpu = sorted(float(g[1].split("/")[1]) for g in got[n])[len(got[n]) // 2]
        extra = f"{rss}/{cpu:.2f}"
    else:
        extra = got[n][0][1]
    print(n, f"{walls[len(walls) // 2]:.3f}", extra, got[n][0][2])
PY
}

ROWS=()
# Bench namespaces a previous run (or bench/fleet.sh) left on this ground are reused.
have=$("$KUBECTL" get ns -o name | grep -c "^namespace/azwi-bench-" || true)
for scale in $SCALES; do
  if (( scale > have )); then
    echo "creating bench namespaces $((have + 1))..$scale" >&2
    t0=$(date +%s)
    bash "$REPO/bench/fleet.sh" $((have + 1)) "$scale"
    echo "  created in $(( $(date +%s) - t0 ))s" >&2
    have=$scale
  elif (( scale < have )); then
    echo "skipping scale $scale: the ground has $have bench namespaces" >&2
    continue
  fi
  read -r sas pods reqs rows < <("$AZWI_BIN" inspect -A --no-azure -o json 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin); c = v["clusters"][0]; r = c["requests"]
print(c["serviceAccounts"], c["pods"], "+".join(str(r[k]) for k in ("serviceAccountPages", "podPages", "other")), len(v["items"]))')
  declare -A M=()
  while read -r name wall extra req; do M[$name]="$wall $extra $req"; done < <(rounds)
  read -r i_wall i_rss _ <<<"${M[inspect]}"
  read -r pb_wall pb_size _ <<<"${M[pb-rv0]}"
  read -r js_wall js_size _ <<<"${M[json-rv0]}"
  read -r pp_wall _ pp_req <<<"${M[pb-paged]}"
  ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
  ROWS+=("$sas $pods $rows $i_wall $i_rss $pb_wall/$pb_size $js_wall/$js_size $pp_wall/$pp_req $(ratio "$i_wall" "$pb_wall") $(ratio "$i_wall" "$pp_wall") $reqs")
done

printf '\n%-6s %-7s %-5s %-9s %-15s %-14s %-14s %-13s %-10s %-11s %s\n' SAS PODS ROWS INSPECT-S RSS-MB/CPU-S PB-RV0-S/SIZE JSON-RV0-S/SIZE PB-PAGED-S/REQ VS-PB-RV0 VS-PB-PAGED "REQUESTS(sa+pod pages+other)"
for r in "${ROWS[@]}"; do
  # shellcheck disable=SC2086
  printf '%-6s %-7s %-5s %-9s %-15s %-14s %-14s %-13s %-10s %-11s %s\n' $r
done
echo "(medians of $RUNS interleaved rounds; RSS: largest, CPU: inspect's user+system median; raw lists: bench/rawlist.py, both lists at once, bytes only; paged: limit=$PAGE)"
