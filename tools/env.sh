# Sourced by the tools: where things live. Slow builds are cached per machine, never in the repo.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PRESS_SELFHOSTED_CACHE:-/var/cache/press-selfhosted}"
if ! mkdir -p "$CACHE" 2>/dev/null || [ ! -w "$CACHE" ]; then
	CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/press-selfhosted"
	mkdir -p "$CACHE"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/cargo-target}"
VENV="$ROOT/.venv"
# Garage (S3) is built from crates.io once per machine, keyed by version.
GARAGE_VERSION=2.5.0
export PRESS_SELFHOSTED_GARAGE="$CACHE/garage-$GARAGE_VERSION/bin/garage"
PY="$VENV/bin/python"
export PATH="$HOME/.cargo/bin:$PATH"
