#!/bin/sh
# First start: a data directory with root's password from MARIADB_ROOT_PASSWORD, for root on
# the socket and from the platform's networks (Press and the benches connect as root over TCP).
set -eu
case "${1:-mariadbd}" in -*) set -- mariadbd "$@" ;; esac
data=/var/lib/mysql
mkdir -p "$data" /run/mysqld
chown -R mysql:mysql "$data" /run/mysqld
if [ ! -d "$data/mysql" ]; then
	: "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required on first start}"
	mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=normal --skip-test-db >/dev/null
	mariadbd --user=mysql --datadir="$data" --skip-networking --socket=/run/mysqld/init.sock &
	pid=$!
	for _ in $(seq 60); do mariadb-admin --socket=/run/mysqld/init.sock ping --silent 2>/dev/null && break; sleep 1; done
	# The password goes in on standard input, never on a command line; quotes and backslashes
	# escaped for SQL.
	password=$(printf '%s' "$MARIADB_ROOT_PASSWORD" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")
	mariadb --socket=/run/mysqld/init.sock <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '$password';
CREATE USER 'root'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
	kill "$pid"
	wait "$pid" || true
fi
unset MARIADB_ROOT_PASSWORD
if [ "$1" = mariadbd ]; then
	shift
	exec mariadbd --user=mysql --datadir="$data" --bind-address=0.0.0.0 --port=3306 "$@"
fi
exec "$@"
