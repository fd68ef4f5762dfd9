#!/usr/bin/env bash
# `make demo`: builds and installs, starts the platform's services (PowerDNS, Traefik, and a
# private Podman when no engine answers), builds the stand-in bench image, then runs the demo
# (press_selfhosted/demo.py).
# Arguments go to the demo: `make demo ARGS="--sites 10"` (or `--image REF` for a real bench
# image). With --keep, the sites and the services stay up in $PRESS_SELFHOSTED_DEMO_STATE; the
# next run reuses them (and changes nothing); `make demo ARGS=--down` removes the sites and
# stops the services.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash tools/setup.sh >/dev/null || exit 1
state=${PRESS_SELFHOSTED_DEMO_STATE:-/var/tmp/press-selfhosted-demo}
keep=0
for arg in "$@"; do [ "$arg" = --keep ] && keep=1; done
stop_all() { "$PY" tools/services.py stop --state "$state"; rm -rf "$state"; }
[ "$keep" = 1 ] || trap stop_all EXIT
mkdir -p "$state"
engine=()
if [ -S "$state/podman/podman.sock" ] || ! "$PY" -I -c "from press_selfhosted.engine import Engine; Engine.connect()" 2>/dev/null; then
	echo "demo: no container engine answers here; using a private Podman service"
	"$PY" tools/services.py start --state "$state" podman || exit 1
	engine=(--engine "unix://$state/podman/podman.sock")
fi
"$PY" tools/services.py start --state "$state" pdns traefik || exit 1
eval "$("$PY" tools/services.py env --state "$state")"
image=$(bash tools/bench-image.sh) || exit 1
"$PY" -I -m press_selfhosted.demo "${engine[@]}" --bench-image-tar "$image" --workdir "$state/platform" \
	--pdns-api "$PRESS_SELFHOSTED_TEST_PDNS_API" \
	--pdns-key-file "$PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE" --pdns-server "$PRESS_SELFHOSTED_TEST_PDNS_DNS" \
	--traefik-dir "$PRESS_SELFHOSTED_TEST_TRAEFIK_DIR" --traefik-api "$PRESS_SELFHOSTED_TEST_TRAEFIK_API" \
	--https-port "${PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS##*:}" "$@"
