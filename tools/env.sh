# Sourced by the tools: where things live. Slow builds are cached per machine, never in the repo.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PRESS_SELFHOSTED_CACHE:-/var/cache/press-selfhosted}"
if ! mkdir -p "$CACHE" 2>/dev/null || [ ! -w "$CACHE" ]; then
	CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/press-selfhosted"
	mkdir -p "$CACHE"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/cargo-target}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
export PATH="$HOME/.cargo/bin:$PATH"
