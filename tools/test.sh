#!/usr/bin/env bash
# `make test`: installs what is missing, builds, starts the real services the tests need on
# loopback, runs `cargo test` and `pytest`, stops exactly what it started, prints a summary.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

bash tools/setup.sh --with-garage || exit 1

# Services from tools/services.py's RECIPES that the suites talk to.
SERVICES=(garage pdns traefik mariadb redis registry podman docker)
state=$(mktemp -d "${TMPDIR:-/tmp}/press-selfhosted-test.XXXXXX")
cleanup() { "$PY" tools/services.py stop --state "$state"; rm -rf "$state"; }
trap cleanup EXIT
if ((${#SERVICES[@]})); then
	"$PY" tools/services.py start --state "$state" "${SERVICES[@]}" || exit 1
	eval "$("$PY" tools/services.py env --state "$state")"
fi
bash tools/busybox-rootfs.sh "$state/busybox-rootfs.tar" || exit 1
export PRESS_SELFHOSTED_TEST_ROOTFS="$state/busybox-rootfs.tar"

cargo test --workspace --color never 2>&1 | tee "$state/cargo.log"
cargo_rc=${PIPESTATUS[0]}
"$VENV/bin/pytest" -p no:cacheprovider 2>&1 | tee "$state/pytest.log"
pytest_rc=${PIPESTATUS[0]}

count() { grep -oE "[0-9]+ $2" "$1" | awk '{s += $1} END {print s + 0}'; }
cargo_passed=$(count "$state/cargo.log" passed)
cargo_failed=$(count "$state/cargo.log" failed)
last=$(tail -n 1 "$state/pytest.log")
py_passed=$(echo "$last" | grep -oE '[0-9]+ passed' | awk '{print $1+0}')
py_failed=$(echo "$last" | grep -oE '[0-9]+ (failed|error|errors)' | awk '{s += $1} END {print s + 0}')
py_skipped=$(echo "$last" | grep -oE '[0-9]+ skipped' | awk '{print $1+0}')
py_passed=${py_passed:-0}; py_skipped=${py_skipped:-0}
if [ "$pytest_rc" -ne 0 ] && [ "$py_failed" -eq 0 ]; then py_failed=1; fi
if [ "$cargo_rc" -ne 0 ] && [ "$cargo_failed" -eq 0 ]; then cargo_failed=1; fi

echo
echo "== summary =="
echo "cargo test: $cargo_passed passed, $cargo_failed failed (exit $cargo_rc)"
echo "pytest:     $py_passed passed, $py_failed failed, $py_skipped skipped (exit $pytest_rc)"
echo "total: $((cargo_passed + py_passed)) passed, $((cargo_failed + py_failed)) failed"
[ "$cargo_rc" -eq 0 ] && [ "$pytest_rc" -eq 0 ]
