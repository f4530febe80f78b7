# Shared by the ground scripts: where the cache lives and the pinned versions.
# shellcheck shell=bash
GROUND_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$GROUND_DIR/versions.env"
GROUND_CACHE=${AZWI_GROUND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-ground}
GROUND_BIN=$GROUND_CACHE/bin
log() { printf '[ground %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'ground: %s\n' "$*" >&2; exit 1; }
