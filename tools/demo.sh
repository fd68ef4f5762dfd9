#!/usr/bin/env bash
# `make demo`: builds and installs, starts the platform's services (PowerDNS, Traefik, Garage,
# and a private Podman when no engine answers), then runs the demo (press_selfhosted/demo.py).
# Arguments go to the demo: `make demo ARGS="--tenants 50"`. With --keep, the tenants and the
# services stay up in $PRESS_SELFHOSTED_DEMO_STATE; the next run reuses them (and changes
# nothing); `make demo ARGS=--down` removes the tenants and stops the services.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash tools/setup.sh --with-garage >/dev/null || exit 1
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
"$PY" tools/services.py start --state "$state" pdns traefik garage || exit 1
eval "$("$PY" tools/services.py env --state "$state")"
s3="$PRESS_SELFHOSTED_TEST_S3_DIR"
export PRESS_SELFHOSTED_S3_ACCESS_KEY="$(cat "$s3/access_key")" PRESS_SELFHOSTED_S3_SECRET_KEY="$(cat "$s3/secret_key")"
[ -f "$state/busybox-rootfs.tar" ] || bash tools/busybox-rootfs.sh "$state/busybox-rootfs.tar" || exit 1
"$PY" -I -m press_selfhosted.demo "${engine[@]}" --rootfs "$state/busybox-rootfs.tar" --workdir "$state/platform" \
	--s3 "$PRESS_SELFHOSTED_TEST_S3_ENDPOINT" --pdns-api "$PRESS_SELFHOSTED_TEST_PDNS_API" \
	--pdns-key-file "$PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE" --pdns-server "$PRESS_SELFHOSTED_TEST_PDNS_DNS" \
	--traefik-dir "$PRESS_SELFHOSTED_TEST_TRAEFIK_DIR" --traefik-api "$PRESS_SELFHOSTED_TEST_TRAEFIK_API" \
	--https-port "${PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS##*:}" "$@"
