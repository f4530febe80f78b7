#!/usr/bin/env bash
# Creates (or reuses) the virtualenv for tests/python OUTSIDE the repo:
#   ${AZWI_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-ground/venv}
# It is rebuilt only when requirements.txt changes (its sha256 is stamped in the venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${AZWI_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-ground/venv}"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "tests/python venv up to date: $venv"
    exit 0
fi
python="${PYTHON:-python3}"
mkdir -p "$(dirname "$venv")"
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req"
echo "$want" > "$stamp"
echo "tests/python venv ready: $venv"
