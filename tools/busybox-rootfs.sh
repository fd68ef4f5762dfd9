#!/usr/bin/env bash
# Builds the test image's rootfs as a tarball: static busybox with its applets, a passwd with
# root and nobody, and a page for httpd. No registry is needed to give the engines an image.
set -euo pipefail
out=$1
busybox=/bin/busybox
file -L "$busybox" 2>/dev/null | grep -q "statically linked" || ldd "$busybox" 2>&1 | grep -q "not a dynamic" \
	|| { echo "busybox-rootfs: $busybox is not static (install busybox-static)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"/{bin,etc,tmp,www}
chmod 1777 "$dir/tmp"
cp "$busybox" "$dir/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
echo "hello from the test image" >"$dir/www/index.html"
tar -C "$dir" -cf "$out" .
