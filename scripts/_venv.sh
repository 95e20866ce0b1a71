# Sourced by scripts/demo and scripts/test: create or reuse .venv with everything installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
venv="$root/.venv"
stamp="$venv/.entra-auth-installed"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ]; then
    echo "scripts: creating $venv" >&2
    "$py" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "scripts: installing entra-auth[test] into $venv" >&2
    "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    "$venv/bin/python" -m pip install -q -e ".[test]" 2>&1 | grep -v -E "^WARNING: Location .* is ignored" >&2 || true
    "$venv/bin/python" -c "import entra_auth, msal, pytest" >/dev/null
    echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
