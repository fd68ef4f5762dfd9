#!/bin/sh
# PowerDNS, authoritative, with its HTTP API: a sqlite database made on first start, and the
# API key from the environment written into a configuration only the server reads (so it is in
# no process's command line).
set -eu
data=/var/lib/powerdns
db="$data/pdns.sqlite3"
if [ ! -s "$db" ]; then
	for schema in /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql /usr/local/share/doc/pdns/schema.sqlite3.sql; do
		[ -f "$schema" ] && break
	done
	sqlite3 "$db" <"$schema"
fi
conf=$(mktemp -d)
umask 077
cat >"$conf/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$db
local-address=0.0.0.0
local-port=53
api=yes
api-key=$PDNS_API_KEY
webserver=yes
webserver-address=0.0.0.0
webserver-port=8081
webserver-allow-from=0.0.0.0/0
socket-dir=$data
setuid=
setgid=
daemon=no
guardian=no
disable-syslog=yes
CONF
unset PDNS_API_KEY
exec pdns_server --config-dir="$conf"
