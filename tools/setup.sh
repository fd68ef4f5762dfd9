#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need on a fresh Debian machine (as root),
# then builds the release wheel and installs it into the project's virtualenv.
# --with-garage also builds the Garage S3 server the storage tests run against.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# Debian packages, each named even when another one depends on it today; apt runs only when one
# is missing, with --no-install-recommends, so nothing here may rely on a Recommends.
PACKAGES=(
	openssl gcc pkg-config file socat curl
	# Run Remote Builder fetches each app with git at its commit.
	git
	# Podman with its init (catatonit is only a Recommends of podman, and `init: true` containers
	# fail without it), on CNI: the bridge and portmap plugins publish loopback ports, dnsname (with
	# dnsmasq) resolves containers' aliases on user networks. netavark is deliberately not used.
	podman runc catatonit containernetworking-plugins golang-github-containernetworking-plugin-dnsname dnsmasq-base iptables
	docker.io tini
	busybox-static docker-registry apache2-utils
	pdns-server pdns-backend-sqlite3 sqlite3 dnsutils
	# mariadb-install-db runs my_print_defaults, which is in mariadb-client-core: not a dependency
	# of mariadb-server-core.
	mariadb-server-core mariadb-client-core redis-server
	# The bench image's Debian base (tools/debian-rootfs.sh).
	debootstrap
	# The load generator of benches/sites.py (`make bench`).
	wrk
	# The monitor server's parts, for its tests: Prometheus (and promtool), Alertmanager (and
	# amtool), and the exporters Press's charts read (node; blackbox for sites' uptime).
	prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter
	# The compose stack (deploy/): its tools.
	podman-compose docker-compose
)
missing=()
for pkg in "${PACKAGES[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
done
if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]} (apt)"
	export DEBIAN_FRONTEND=noninteractive
	# Packages with a system service (Redis, PowerDNS) must not start it: the tests start
	# their own on loopback ports. policy-rc.d is Debian's switch for that, kept only meanwhile.
	policy=/usr/sbin/policy-rc.d
	[ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; trap 'rm -f "$policy"' EXIT; }
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# `docker compose` (v2): not in bookworm; Debian's own build from trixie, whose only dependency is
# libc6 >= 2.34, pinned by checksum and installed as the Docker CLI plugin it is (its package
# name would clash with bookworm's docker-compose, v1, which stays installed beside it).
COMPOSE_V2=2.26.1-4
COMPOSE_V2_SHA256=47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea
plugin=/usr/libexec/docker/cli-plugins/docker-compose
if [ ! -x "$plugin" ] || [ "$(cat "$CACHE/docker-compose.version" 2>/dev/null)" != "$COMPOSE_V2" ]; then
	echo "setup: installing docker compose $COMPOSE_V2 (Debian trixie's build)"
	deb="$CACHE/docker-compose_${COMPOSE_V2}_amd64.deb"
	[ -s "$deb" ] && echo "$COMPOSE_V2_SHA256  $deb" | sha256sum -c --quiet 2>/dev/null \
		|| curl -fsS -o "$deb" "http://deb.debian.org/debian/pool/main/d/docker-compose/docker-compose_${COMPOSE_V2}_amd64.deb"
	echo "$COMPOSE_V2_SHA256  $deb" | sha256sum -c --quiet || { echo "setup: docker compose's package has the wrong checksum" >&2; exit 1; }
	unpacked=$(mktemp -d)
	dpkg-deb -x "$deb" "$unpacked"
	install -D -m 0755 "$unpacked/usr/libexec/docker/cli-plugins/docker-compose" "$plugin"
	rm -rf "$unpacked"
	echo "$COMPOSE_V2" >"$CACHE/docker-compose.version"
fi

command -v cargo >/dev/null || { echo "setup: cargo not found: install a Rust toolchain (>= 1.88)" >&2; exit 1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
	|| { echo "setup: python3 >= 3.10 is required" >&2; exit 1; }

if [ ! -x "$PY" ]; then
	python3 -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	echo "setup: installing Python tools into .venv"
	"$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
	echo "$want" >"$stamp"
fi

if [ "${1:-}" = "--with-garage" ] && [ ! -x "$PRESS_SELFHOSTED_GARAGE" ]; then
	echo "setup: building Garage $GARAGE_VERSION (once per machine, about 12 minutes on 2 cores)"
	CARGO_TARGET_DIR="$CACHE/garage-build" cargo install "garage@$GARAGE_VERSION" --locked --quiet \
		--root "$CACHE/garage-$GARAGE_VERSION" || exit 1
	rm -rf "$CACHE/garage-build"
fi

bash "$ROOT/tools/preflight.sh" ${1:+"$1"} || exit 1

echo "setup: building the release wheel (cargo target: $CARGO_TARGET_DIR)"
rm -rf "$ROOT/dist"
(cd "$ROOT" && "$VENV/bin/maturin" build --release --quiet -o dist)
"$PY" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$ROOT"/dist/*.whl
