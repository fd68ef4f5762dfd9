#!/usr/bin/env bash
# Builds the STAND-IN bench image's root filesystem: the Debian base (tools/debian-rootfs.sh)
# plus images/bench-standin/ in the place of Frappe (see standin.py), laid out as Press's bench
# images are (/home/frappe/frappe-bench, user frappe, uid 1000). Tests and the demo import it
# with Engine.import_rootfs. A real bench image is the same base with a Frappe bench in
# /home/frappe/frappe-bench instead (README, "A real bench image"). Prints the tarball's path.
set -euo pipefail
source "$(dirname "$0")/env.sh"
base=$(bash "$ROOT/tools/debian-rootfs.sh" bookworm)
src="$ROOT/images/bench-standin"
key=$( (basename "$base"; cat "$src"/* "$0") | sha256sum | cut -c1-12)
tarball="$CACHE/bench-standin-$key.tar"
if [ ! -s "$tarball" ]; then
	work=$(mktemp -d "$CACHE/bench-standin.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	layer="$work/layer"
	bench="$layer/home/frappe/frappe-bench"
	mkdir -p "$layer/usr/local/bin" "$layer/usr/local/lib" "$bench/env/bin" "$bench/apps/frappe" "$bench/config" \
		"$bench/logs" "$bench/sites/assets/frappe"
	install -m 0755 "$src/standin.py" "$layer/usr/local/lib/bench-standin.py"
	install -m 0755 "$src/mariadb.py" "$layer/usr/local/lib/platform-mariadb.py"
	printf '#!/bin/sh\nexec python3 /usr/local/lib/platform-mariadb.py "$@"\n' >"$layer/usr/local/bin/platform-mariadb"
	for pair in bench:bench node:socketio; do
		printf '#!/bin/sh\nexec python3 /usr/local/lib/bench-standin.py %s "$@"\n' "${pair#*:}" >"$layer/usr/local/bin/${pair%%:*}"
	done
	printf '#!/bin/sh\nexec python3 /usr/local/lib/bench-standin.py web "$@"\n' >"$bench/env/bin/gunicorn"
	chmod 0755 "$layer/usr/local/bin/"* "$bench/env/bin/gunicorn"
	# A second app the stand-in can install on a site (install-app), named as a stand-in.
	printf 'frappe\nstandin_app\n' >"$bench/sites/apps.txt"
	printf '{}\n' >"$bench/sites/common_site_config.json"
	printf 'body { font-family: sans-serif; } /* bench stand-in */\n' >"$bench/sites/assets/frappe/standin.css"
	printf '// socketio is the stand-in node\n' >"$bench/apps/frappe/socketio.js"
	# Engines refuse a tarball that names a path twice: unpack the base, lay the stand-in over
	# it, pack once (as root, owners kept numerically).
	mkdir "$work/root"
	tar -C "$work/root" --numeric-owner -xpf "$base"
	cp -a "$layer/." "$work/root/"
	chown -R 0:0 "$work/root/usr/local"
	chown -R 1000:1000 "$work/root/home/frappe"
	tar -C "$work/root" --numeric-owner -cf "$work/image.tar" .
	rm -f "$CACHE"/bench-standin-*.tar  # older recipes' images
	mv "$work/image.tar" "$tarball"
fi
echo "$tarball"
