#!/usr/bin/env bash
# `make bench`: every benchmark in benches/, with the real engines started (and stopped) as
# in `make test`. Figures go to stdout; BENCHMARKS.md records them.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash tools/setup.sh --with-garage || exit 1
state=$(mktemp -d "${TMPDIR:-/tmp}/press-selfhosted-bench.XXXXXX")
trap '"$PY" tools/services.py stop --state "$state"; rm -rf "$state"' EXIT
"$PY" tools/services.py start --state "$state" garage pdns traefik podman docker || exit 1
eval "$("$PY" tools/services.py env --state "$state")"
bash tools/busybox-rootfs.sh "$state/busybox-rootfs.tar" || exit 1
export PRESS_SELFHOSTED_TEST_ROOTFS="$state/busybox-rootfs.tar"
PRESS_SELFHOSTED_TEST_BENCH_IMAGE=$(bash tools/bench-image.sh) || exit 1
export PRESS_SELFHOSTED_TEST_BENCH_IMAGE
"$PY" -I benches/pki.py "$@" && echo && "$PY" -I benches/engine.py && echo && "$PY" -I benches/storage.py && echo && "$PY" -I benches/dns.py && echo && "$PY" -I benches/sites.py && echo && "$PY" -I benches/metrics.py
