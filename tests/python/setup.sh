#!/usr/bin/env bash
# Creates (or reuses) the two virtualenvs the tests use, OUTSIDE the repo:
#   ${AZWI_PY_VENV:-$CACHE/venv}     requirements.txt     (Microsoft's Python SDK, tests/python)
#   ${AZWI_AZ_VENV:-$CACHE/az-venv}  az-requirements.txt  (the Azure CLI, tests/it/az_cli.rs)
# with CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-ground. Two venvs, because the Azure
# CLI pins azure-core to another minor than the SDK tests do. Each is rebuilt only when its
# requirements file changes (its sha256 is stamped in the venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-ground"
python="${PYTHON:-python3}"

# ensure VENV REQUIREMENTS
ensure() {
    local venv=$1 req=$2
    local stamp="$venv/.requirements.sha256" want
    want="$(sha256sum "$req" | cut -d' ' -f1)"
    if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "venv up to date: $venv"
        return
    fi
    mkdir -p "$(dirname "$venv")"
    [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req"
    echo "$want" > "$stamp"
    echo "venv ready: $venv"
}

ensure "${AZWI_PY_VENV:-$cache/venv}" "$here/requirements.txt"
ensure "${AZWI_AZ_VENV:-$cache/az-venv}" "$here/az-requirements.txt"
