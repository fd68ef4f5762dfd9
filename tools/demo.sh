#!/usr/bin/env bash
# `make demo`: builds and installs, then runs the demo on the machine's container engine.
# Where none answers (no DOCKER_HOST, no Docker or Podman socket), it starts a private
# Podman service for the demo and stops it afterwards.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash tools/setup.sh >/dev/null || exit 1
state=$(mktemp -d "${TMPDIR:-/tmp}/press-selfhosted-demo.XXXXXX")
trap '"$PY" tools/services.py stop --state "$state"; rm -rf "$state"' EXIT
engine=()
if ! "$PY" -I -c "from press_selfhosted.engine import Engine; Engine.connect()" 2>/dev/null; then
	echo "demo: no container engine answers here; starting a private Podman service"
	"$PY" tools/services.py start --state "$state" podman || exit 1
	eval "$("$PY" tools/services.py env --state "$state")"
	engine=(--engine "$PRESS_SELFHOSTED_TEST_PODMAN")
fi
bash tools/busybox-rootfs.sh "$state/busybox-rootfs.tar" || exit 1
"$PY" -I -m press_selfhosted.demo "${engine[@]}" --rootfs "$state/busybox-rootfs.tar" "$@"
