#!/usr/bin/env bash
# A new customer's journey through Press's dashboard in headless Chromium (journey.mjs), at
# desktop and at phone width, against a Press site whose platform is set up (`selfhosted
# setup`) and whose outgoing mail goes to mail_catcher.py (Selfhosted Settings: SMTP server
# 127.0.0.1, the catcher's port, no TLS). Installs what it needs: Debian's chromium, certutil
# and socat, and playwright-core, cached by version under /var/cache/press-selfhosted/.
#
# The browser runs in a network namespace of its own (root), where the platform's names are
# resolved by the platform's PowerDNS (--dns) as a customer's resolver would, and every address
# is the namespace's own: port 443 there goes to Traefik's HTTPS (--traefik), the Press site's
# port to the Press site, and each --relay port to the same port on this host's loopback
# (socket.io, the S3 store of backup downloads), each through a Unix socket. The namespace
# and its relays end with the run.
#
#   tools/dashboard-journey/run.sh --press http://press.test:8000 --domain shop.test \
#     --ca /path/to/ca/root.crt --mail-dir /tmp/mail --dns 127.0.0.1:53053 \
#     --traefik 127.0.0.1:32301 [--relay 9000 ...] [--out DIR] \
#     [--product TRIAL]   (a Product Trial's sign-up instead of New Site)
#     [--customer EMAIL --site SITE [--restore] [--own-domain D] [--drop]]   (that customer's
#                         site's tabs, at desktop width: backups taken, downloaded and, with
#                         --restore, an offsite one restored; logs; their own domain; drop)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
press="" domain="" ca="" mail="" dns="" traefik="" out="$PWD/journey-shots" product="" customer="" site="" own="" drop=0 restore=0
relay_ports=()
while [ $# -gt 0 ]; do
	case "$1" in
		--press) press="$2" ;; --domain) domain="$2" ;; --ca) ca="$2" ;; --mail-dir) mail="$2" ;;
		--dns) dns="$2" ;; --traefik) traefik="$2" ;; --relay) relay_ports+=("$2") ;;
		--out) out="$2" ;; --product) product="$2" ;;
		--customer) customer="$2" ;; --site) site="$2" ;; --own-domain) own="$2" ;;
		--drop) drop=1; shift; continue ;;
		--restore) restore=1; shift; continue ;;
		*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift 2
done
for name in press domain ca mail dns traefik; do
	[ -n "${!name}" ] || { echo "--${name/mail/mail-dir} is required" >&2; exit 2; }
done
[ -f "$ca" ] || { echo "no CA root at $ca" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run as root: the browser gets a network namespace of its own" >&2; exit 2; }
hostport='^[A-Za-z0-9.-]+:[0-9]{1,5}$'
for value in "$dns" "$traefik"; do
	[[ "$value" =~ $hostport ]] || { echo "not host:port: $value" >&2; exit 2; }
done
for port in "${relay_ports[@]}"; do
	[[ "$port" =~ ^[0-9]{1,5}$ ]] || { echo "--relay takes a port: $port" >&2; exit 2; }
done
press_host="$(echo "$press" | sed -E 's#^https?://([^:/]+).*#\1#')"
press_port="$(echo "$press" | sed -nE 's#^https?://[^:/]+:([0-9]+).*#\1#p')"
[ -n "$press_port" ] || { [[ "$press" == https* ]] && press_port=443 || press_port=80; }

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v certutil >/dev/null || need+=(libnss3-tools)
command -v node >/dev/null || need+=(nodejs npm)
command -v socat >/dev/null || need+=(socat)
command -v ip >/dev/null || need+=(iproute2)
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
work="$(mktemp -d)"
home="$work/home"
relays=()
stop() {
	for pid in "${relays[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap stop EXIT
mkdir -p "$home/.pki/nssdb"
certutil -d "sql:$home/.pki/nssdb" -N --empty-password
certutil -d "sql:$home/.pki/nssdb" -A -t "C,," -n "platform root" -i "$ca"

# This side of each relay: a Unix socket (the namespace sees this file system) to an address here.
relay() {
	socat "UNIX-LISTEN:$work/$1.sock,fork" "$2" &
	relays+=($!)
}
relay dns "UDP4:$dns"
relay https "TCP4:$traefik"
# A Press site on port 443 is taken to be behind Traefik too, so it needs no relay of its own.
[ "$press_port" = 443 ] || relay press "TCP4:127.0.0.1:$press_port"
for port in "${relay_ports[@]}"; do relay "port-$port" "TCP4:127.0.0.1:$port"; done
cat >"$work/in-namespace.sh" <<'INSIDE'
set -eu
ip link set lo up
# Every address is this namespace's own, so a name's A record, whatever it says, reaches a relay.
ip route add local 0.0.0.0/0 dev lo
# An address besides loopback: without one, getaddrinfo (AI_ADDRCONFIG, as Chromium asks)
# looks up no IPv4 name at all. Both ends stay inside.
ip link add inside0 type veth peer name inside1
ip addr add 198.18.0.1/32 dev inside0
ip link set inside0 up
ip link set inside1 up
printf 'nameserver 127.0.0.1\noptions single-request-reopen\n' >"$WORK/resolv.conf"
printf '127.0.0.1 localhost %s\n' "$PRESS_HOST" >"$WORK/hosts"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
mount --bind "$WORK/hosts" /etc/hosts
socat -T 10 UDP4-RECVFROM:53,fork "UNIX-CONNECT:$WORK/dns.sock" &
socat TCP4-LISTEN:443,fork,reuseaddr "UNIX-CONNECT:$WORK/https.sock" &
[ "$PRESS_PORT" = 443 ] || socat "TCP4-LISTEN:$PRESS_PORT,fork,reuseaddr" "UNIX-CONNECT:$WORK/press.sock" &
for port in $RELAY_PORTS; do socat "TCP4-LISTEN:$port,fork,reuseaddr" "UNIX-CONNECT:$WORK/port-$port.sock" & done
sleep 0.5
node "$MODULES/journey.mjs"
INSIDE

cp "$here/journey.mjs" "$modules/"  # an ES module finds playwright-core beside it
sizes="1280x800 390x844"
[ -n "$customer" ] && sizes="1280x800"  # a site is dropped once
status=0
for size in $sizes; do
	# A PID namespace too: its processes (the relays' far ends, the browser) end with the run.
	PRESS="$press" DOMAIN="$domain" MAIL_DIR="$mail" OUT="$out" PRODUCT="$product" CUSTOMER="$customer" SITE="$site" \
		OWN_DOMAIN="$own" DROP="$drop" RESTORE="$restore" WIDTH="${size%x*}" HEIGHT="${size#*x}" NSS_HOME="$home" \
		WORK="$work" PRESS_HOST="$press_host" PRESS_PORT="$press_port" RELAY_PORTS="${relay_ports[*]}" MODULES="$modules" \
		unshare --net --mount --pid --fork --mount-proc bash "$work/in-namespace.sh" || status=1
done
exit $status
