#!/usr/bin/env bash
# `make test`: installs what is missing, builds, starts the real services the tests need on
# loopback, runs every suite (cargo test with --no-fail-fast, then pytest) whatever failed
# before, stops exactly what it started, and prints one summary that counts them all.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

problems=()
bash tools/setup.sh --with-garage || problems+=("setup failed (see above): the suites run with what there is")

# Services from tools/services.py's RECIPES that the suites talk to, started one by one so
# that one which fails to start fails only the tests that need it.
SERVICES=(garage pdns traefik mariadb redis registry podman docker)
state=$(mktemp -d "${TMPDIR:-/tmp}/press-selfhosted-test.XXXXXX")
cleanup() { "$PY" tools/services.py stop --state "$state"; rm -rf "$state"; }
trap cleanup EXIT
for service in "${SERVICES[@]}"; do
	"$PY" tools/services.py start --state "$state" "$service" || problems+=("service $service did not start")
done
eval "$("$PY" tools/services.py env --state "$state")"
bash tools/busybox-rootfs.sh "$state/busybox-rootfs.tar" || problems+=("the test image's rootfs was not built")
export PRESS_SELFHOSTED_TEST_ROOTFS="$state/busybox-rootfs.tar"
PRESS_SELFHOSTED_TEST_BENCH_IMAGE=$(bash tools/bench-image.sh) || problems+=("the stand-in bench image was not built")
export PRESS_SELFHOSTED_TEST_BENCH_IMAGE

cargo test --workspace --no-fail-fast --color never 2>&1 | tee "$state/cargo.log"
cargo_rc=${PIPESTATUS[0]}
"$VENV/bin/pytest" -p no:cacheprovider 2>&1 | tee "$state/pytest.log"
pytest_rc=${PIPESTATUS[0]}

# cargo: one "test result:" line per test binary; a binary that crashed or did not build has
# none, and shows only in cargo's closing "N targets failed" (counted then as one failure each).
sum() { grep -oE "[0-9]+ $1" | awk '{s += $1} END {print s + 0}'; }
cargo_passed=$(grep '^test result:' "$state/cargo.log" | sum passed)
cargo_failed=$(grep '^test result:' "$state/cargo.log" | sum failed)
failed_binaries=$(grep '^test result: FAILED' -c "$state/cargo.log")
failed_targets=$(grep -oE '^error: [0-9]+ targets? failed' "$state/cargo.log" | sum 'targets?')
if ((failed_targets > failed_binaries)); then cargo_failed=$((cargo_failed + failed_targets - failed_binaries)); fi
if [ "$cargo_rc" -ne 0 ] && [ "$cargo_failed" -eq 0 ]; then cargo_failed=1; fi
last=$(tail -n 1 "$state/pytest.log")
py_passed=$(echo "$last" | sum passed)
py_failed=$(echo "$last" | grep -oE '[0-9]+ (failed|error|errors)\b' | sum '(failed|error|errors)')
py_skipped=$(echo "$last" | sum skipped)
if [ "$pytest_rc" -ne 0 ] && [ "$py_failed" -eq 0 ]; then py_failed=1; fi

echo
echo "== summary =="
for problem in "${problems[@]}"; do echo "problem: $problem"; done
echo "cargo test: $cargo_passed passed, $cargo_failed failed (exit $cargo_rc)"
echo "pytest:     $py_passed passed, $py_failed failed, $py_skipped skipped (exit $pytest_rc)"
failed=$((cargo_failed + py_failed + ${#problems[@]}))
echo "total: $((cargo_passed + py_passed)) passed, $failed failed"
[ "$failed" -eq 0 ]
