# Sourced by scripts/demo and scripts/test: create or reuse a virtualenv with everything the
# tests need (the package in editable mode with its `dev` extra).
#   ensure_venv PYTHON VENV   create/refresh VENV with interpreter PYTHON (quietly)
# Sourcing it also sets up the default one: .venv with $PYTHON (default python3) on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ensure_venv() {
    local py="$1" venv="$2"
    local stamp="$venv/.entra-auth-installed"
    local want
    want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1) $("$py" -c 'import sys; print(sys.version.split()[0])')"
    if [ ! -x "$venv/bin/python" ]; then
        echo "scripts: creating $venv ($py)" >&2
        "$py" -m venv "$venv"
    fi
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "scripts: installing entra-auth[dev] into $venv" >&2
        "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
        "$venv/bin/python" -m pip install -q -e ".[dev]" 2>&1 \
            | grep -v -E "^WARNING: Location .* is ignored" >&2 || true
        "$venv/bin/python" -c "import entra_auth, msal, pytest" >/dev/null
        echo "$want" > "$stamp"
    fi
}

ensure_venv "${PYTHON:-python3}" "$root/.venv"
export PATH="$root/.venv/bin:$PATH"
