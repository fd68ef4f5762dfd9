#!/usr/bin/env bash
# A new customer's journey through Press's dashboard in headless Chromium (journey.mjs), at
# desktop and at phone width, against a Press site whose platform is set up (`selfhosted
# setup`) and whose outgoing mail goes to mail_catcher.py (Selfhosted Settings: SMTP server
# 127.0.0.1, the catcher's port, no TLS). Installs what it needs: Debian's chromium and
# certutil, and playwright-core, cached by version under /var/cache/press-selfhosted/.
#
#   tools/dashboard-journey/run.sh --press http://press.test:8000 --domain shop.test \
#     --ca /path/to/ca/root.crt --mail-dir /tmp/mail --traefik 127.0.0.1:32301 [--out DIR] \
#     [--product TRIAL]   (a Product Trial's sign-up instead of New Site)
#     [--customer EMAIL --site SITE [--own-domain D] [--drop]]   (that customer's site's tabs,
#                         at desktop width: backups, logs, their own domain, drop)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
press="" domain="" ca="" mail="" traefik="127.0.0.1:443" out="$PWD/journey-shots" product="" customer="" site="" own="" drop=0
while [ $# -gt 0 ]; do
	case "$1" in
		--press) press="$2" ;; --domain) domain="$2" ;; --ca) ca="$2" ;; --mail-dir) mail="$2" ;;
		--traefik) traefik="$2" ;; --out) out="$2" ;; --product) product="$2" ;;
		--customer) customer="$2" ;; --site) site="$2" ;; --own-domain) own="$2" ;;
		--drop) drop=1; shift; continue ;;
		*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift 2
done
for name in press domain ca mail; do
	[ -n "${!name}" ] || { echo "--${name/mail/mail-dir} is required" >&2; exit 2; }
done
[ -f "$ca" ] || { echo "no CA root at $ca" >&2; exit 2; }

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v certutil >/dev/null || need+=(libnss3-tools)
command -v node >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
	echo "dashboard-journey: installing ${need[*]} (apt)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

version="$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' "$here/package.json")"
modules="/var/cache/press-selfhosted/playwright-core-$version"
if [ ! -d "$modules/node_modules/playwright-core" ]; then
	mkdir -p "$modules"
	cp "$here/package.json" "$here/package-lock.json" "$modules/"
	(cd "$modules" && npm ci --no-audit --no-fund --ignore-scripts)
fi

# A HOME of its own whose NSS database trusts the platform root: Chromium reads ~/.pki/nssdb.
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/.pki/nssdb"
certutil -d "sql:$home/.pki/nssdb" -N --empty-password
certutil -d "sql:$home/.pki/nssdb" -A -t "C,," -n "platform root" -i "$ca"

cp "$here/journey.mjs" "$modules/"  # an ES module finds playwright-core beside it
resolve="MAP *.$domain $traefik"
[ -n "$own" ] && resolve="$resolve, MAP $own $traefik"  # the customer's DNS points it at the platform
sizes="1280x800 390x844"
[ -n "$customer" ] && sizes="1280x800"  # a site is dropped once
status=0
for size in $sizes; do
	PRESS="$press" DOMAIN="$domain" MAIL_DIR="$mail" OUT="$out" PRODUCT="$product" CUSTOMER="$customer" SITE="$site" \
		OWN_DOMAIN="$own" DROP="$drop" WIDTH="${size%x*}" HEIGHT="${size#*x}" NSS_HOME="$home" \
		RESOLVE="$resolve" node "$modules/journey.mjs" || status=1
done
exit $status
