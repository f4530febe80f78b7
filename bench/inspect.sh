#!/usr/bin/env bash
# Benchmark of `kubectl azwi inspect -A --no-azure -o json` against the raw lists it replaces
# (`kubectl get sa -A -o json` + `kubectl get pods -A -o json`), at 1/4, 1/2 and full scale
# (full: 2,000 ServiceAccounts and 20,000 pods). Wall time is the median of RUNS runs; max RSS
# is the kernel's per-process figure (wait4, what /usr/bin/time -v reports). Target at full
# scale: < 1 s and < 150 MB. Also prints the requests inspect made (list pages per resource).
#
#   bench/inspect.sh                         # starts its own ground, stops it at the end
#   AZWI_GROUND_DIR=DIR bench/inspect.sh     # uses a running ground (the bench namespaces stay)
#   AZWI_BIN=path/to/kubectl-azwi            # default: cargo build --release
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
SCALES=${SCALES:-"5 10 20"}   # namespaces of 100 SAs + 1,000 pods each

if [[ -z "${AZWI_GROUND_DIR:-}" ]]; then
  AZWI_GROUND_DIR=$(bash "$REPO/tests/ground/up.sh" --owner-pid $$ | tail -1)
  trap 'bash "$REPO/tests/ground/down.sh" "$AZWI_GROUND_DIR" >/dev/null 2>&1 || true' EXIT
fi
set -a; . "$AZWI_GROUND_DIR/env"; set +a
export KUBECTL=$AZWI_GROUND_KUBECTL
if [[ -z "${AZWI_BIN:-}" ]]; then
  (cd "$REPO" && cargo build --release --quiet)
  AZWI_BIN="$REPO/target/release/kubectl-azwi"
fi

# measure NAME CMD... -> "median_seconds max_rss_mb" over RUNS runs, stdout discarded.
measure() {
  python3 - "$RUNS" "$@" <<'PY'
import os, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
walls, rss = [], 0
for _ in range(runs):
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    walls.append(time.monotonic() - t)
    if status != 0:
        sys.exit(f"{cmd} failed: {status}")
    rss = max(rss, ru.ru_maxrss / 1024)
walls.sort()
print(f"{walls[len(walls) // 2]:.3f} {rss:.0f}")
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
  fi
  read -r sas pods sa_pages pod_pages other rows < <("$AZWI_BIN" inspect -A --no-azure -o json 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin); c = v["clusters"][0]; r = c["requests"]
print(c["serviceAccounts"], c["pods"], r["serviceAccountPages"], r["podPages"], r["other"], len(v["items"]))')
  read -r i_wall i_rss < <(measure "$AZWI_BIN" inspect -A --no-azure -o json)
  read -r s_wall s_rss < <(measure "$KUBECTL" get sa -A -o json)
  read -r p_wall p_rss < <(measure "$KUBECTL" get pods -A -o json)
  k_wall=$(python3 -c "print(f'{$s_wall + $p_wall:.3f}')")
  k_rss=$(( s_rss > p_rss ? s_rss : p_rss ))
  ROWS+=("$sas $pods $rows $i_wall $i_rss $k_wall $k_rss $sa_pages+$pod_pages+$other")
done

printf '\n%-8s %-7s %-6s %-12s %-12s %-14s %-14s %s\n' SAS PODS ROWS INSPECT-S INSPECT-MB KUBECTL-2x-S KUBECTL-MAX-MB "REQUESTS(sa pages+pod pages+other)"
for r in "${ROWS[@]}"; do
  # shellcheck disable=SC2086
  printf '%-8s %-7s %-6s %-12s %-12s %-14s %-14s %s\n' $r
done
echo "(inspect: median of $RUNS runs of '$AZWI_BIN inspect -A --no-azure -o json >/dev/null'; kubectl: sum of the two lists' medians, larger max RSS)"
