#!/usr/bin/env bash
# `make demo`: builds and installs, then runs the demo on the machine's container engine.
# Where none answers (no DOCKER_HOST, no Docker or Podman socket), it starts a private
# Podman service for the demo and stops it afterwards. The tenant's backup goes to a private
# Garage (built once per machine by setup.sh, about 12 minutes the first time).
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash tools/setup.sh --with-garage >/dev/null || exit 1
state=$(mktemp -d "${TMPDIR:-/tmp}/press-selfhosted-demo.XXXXXX")
trap '"$PY" tools/services.py stop --state "$state"; rm -rf "$state"' EXIT
engine=()
if ! "$PY" -I -c "from press_selfhosted.engine import Engine; Engine.connect()" 2>/dev/null; then
	echo "demo: no container engine answers here; starting a private Podman service"
	"$PY" tools/services.py start --state "$state" podman || exit 1
	eval "$("$PY" tools/services.py env --state "$state")"
	engine=(--engine "$PRESS_SELFHOSTED_TEST_PODMAN")
fi
"$PY" tools/services.py start --state "$state" garage || exit 1
eval "$("$PY" tools/services.py env --state "$state")"
s3="$PRESS_SELFHOSTED_TEST_S3_DIR"
export PRESS_SELFHOSTED_S3_ACCESS_KEY="$(cat "$s3/access_key")" PRESS_SELFHOSTED_S3_SECRET_KEY="$(cat "$s3/secret_key")"
bash tools/busybox-rootfs.sh "$state/busybox-rootfs.tar" || exit 1
"$PY" -I -m press_selfhosted.demo "${engine[@]}" --rootfs "$state/busybox-rootfs.tar" --s3 "$PRESS_SELFHOSTED_TEST_S3_ENDPOINT" "$@"
