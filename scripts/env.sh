# Shared by scripts/serve and scripts/test: a project virtualenv with the locked dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

install_python() {
  local extras="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$extras"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] || [ "$ROOT/constraints.txt" -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c "$ROOT/constraints.txt" -e "$ROOT$extras"
    touch "$stamp"
  fi
}

build_web_client() {
  local web="$ROOT/interfaces/web"
  [ -f "$web/package.json" ] || return 0
  if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules" ]; then
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # Rebuild when a source, the contract's JSON Schema (src/api/contract.schema.json: the generated
  # types come from it), the type generator or the build configuration is newer than the last build.
  if [ ! -f "$web/dist/index.html" ] || [ -n "$(find "$web/src" "$web/src/api/contract.schema.json" "$web/scripts" \
      "$web/index.html" "$web/package.json" "$web/package-lock.json" "$web/vite.config.ts" "$web/tsconfig.json" \
      -newer "$web/dist/index.html" 2>/dev/null | head -n 1)" ]; then
    (cd "$web" && npm run build --silent)
  fi
}

ensure_chromium() {
  # Browser tests drive Debian's Chromium through Playwright (a browser download is not possible here).
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Chromium for the browser tests (apt-get install chromium)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need /usr/bin/chromium: install Debian's chromium package (sudo apt-get install chromium)." >&2
    return 1
  fi
}
