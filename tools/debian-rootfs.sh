#!/usr/bin/env bash
# Builds a Debian root filesystem from Debian's packages with debootstrap and packs it as a
# tarball an engine imports (Engine.import_rootfs): the base of the bench image, and of every
# image an air-gapped platform runs. Cached in $CACHE by suite and package list, so it is built
# once per machine. Prints the tarball's path.
#	tools/debian-rootfs.sh [SUITE]   (default bookworm)
set -euo pipefail
source "$(dirname "$0")/env.sh"
suite=${1:-bookworm}
mirror=${PRESS_SELFHOSTED_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What a bench needs around Frappe: supervisord runs its processes, Redis is its cache and
# queue, the MariaDB client talks to the Database Server; mariadb-server lets the same base run
# the platform's database as a container; Frappe's `bench restore` runs `file` on the dump to
# tell gzip from plain SQL, so a restore fails without it.
packages=(python3 supervisor redis-server mariadb-client mariadb-server ca-certificates procps tini file)
key=$(printf '%s\n' "$suite" "$mirror" "${packages[@]}" | sha256sum | cut -c1-12)
tarball="$CACHE/rootfs-$suite-$key.tar"
if [ ! -s "$tarball" ]; then
	command -v debootstrap >/dev/null || { echo "debian-rootfs: debootstrap is missing (tools/setup.sh installs it)" >&2; exit 1; }
	work=$(mktemp -d "$CACHE/rootfs-build.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	echo "debian-rootfs: debootstrap $suite (once per machine, a few minutes)" >&2
	debootstrap --variant=minbase "$suite" "$work/root" "$mirror" >"$work/build.log" 2>&1 \
		|| { tail -20 "$work/build.log" >&2; exit 1; }
	# The packages' services (MariaDB, Redis) must not start inside the chroot as they install:
	# policy-rc.d is Debian's switch for that, removed again before packing.
	printf '#!/bin/sh\nexit 101\n' >"$work/root/usr/sbin/policy-rc.d"
	chmod 755 "$work/root/usr/sbin/policy-rc.d"
	DEBIAN_FRONTEND=noninteractive chroot "$work/root" apt-get install -y -qq --no-install-recommends "${packages[@]}" \
		>>"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; exit 1; }
	rm -f "$work/root/usr/sbin/policy-rc.d"
	rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin "$work/root/var/cache/apt/archives/"*.deb
	chroot "$work/root" useradd --uid 1000 --create-home --shell /bin/bash frappe
	tar -C "$work/root" --numeric-owner -cf "$work/rootfs.tar" .
	mv "$work/rootfs.tar" "$tarball"
fi
echo "$tarball"
