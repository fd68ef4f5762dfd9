"""The Database Server's side of a site: a temporary privileged user for `bench new-site` and
`drop-site` (as the agent does, so the root password never enters a bench container), and the
checks and cleanup that make a failed site leave nothing behind."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pymysql

from press_selfhosted.exceptions import DatabaseError, ValidationError
from press_selfhosted.executor.platform import Database


def database_name(site: str) -> str:
	"""A site's database (and user) name: stable, unique per site, and 17 characters, within
	MariaDB's limits for both."""
	return "_" + hashlib.sha256(site.encode()).hexdigest()[:16]


@contextmanager
def connection(database: Database, password: str) -> Iterator[pymysql.connections.Connection]:
	try:
		conn = pymysql.connect(host=database.host, port=database.port, user=database.root_user, password=password,
			connect_timeout=10, autocommit=True)
	except pymysql.MySQLError as e:
		# PyMySQL's message names the user and host, never the password.
		raise DatabaseError(f"the Database Server at {database.host}:{database.port} refused: {e.args[-1]}") from None
	try:
		yield conn
	finally:
		conn.close()


def temporary_prefix(owner: str, job: int) -> str:
	"""The names of a job's temporary users begin so: what its undo drops when its worker died
	before it could (temporary_users)."""
	return f"_tmp_{owner}_{job}_"


@contextmanager
def temporary_user(database: Database, root_password: str, prefix: str = "_tmp_") -> Iterator[tuple[str, str]]:
	"""A user with every privilege (and GRANT), for one site operation, dropped afterwards
	whatever happens (but the death of the process: see temporary_prefix)."""
	user, password = f"{prefix}{secrets.token_hex(6)}", secrets.token_urlsafe(24)
	with connection(database, root_password) as conn, conn.cursor() as cur:
		cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
		cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO `{user}`@'%' WITH GRANT OPTION")
		try:
			yield user, password
		finally:
			cur.execute("DROP USER IF EXISTS %s@'%%'", (user,))


def check_database_name(name: object) -> str:
	"""A site database's name as Frappe makes them (and as it is quoted in SQL here)."""
	if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,64}", name):
		raise ValidationError(f"not a site database name: {name!r}")
	return name


def remove_site_database(database: Database, root_password: str, name: str) -> list[str]:
	"""Drops the site's database and every user named after it; what was there."""
	name = check_database_name(name)
	removed = []
	with connection(database, root_password) as conn, conn.cursor() as cur:
		cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,))
		if cur.fetchone():
			cur.execute(f"DROP DATABASE `{name}`")
			removed.append(f"database {name}")
		cur.execute("SELECT host FROM mysql.user WHERE user = %s", (name,))
		for (host,) in cur.fetchall():
			cur.execute("DROP USER %s@%s", (name, host))
			removed.append(f"user {name}@{host}")
	return removed


def site_database_exists(database: Database, root_password: str, name: str) -> tuple[bool, bool]:
	"""(database exists, a user of that name exists)."""
	with connection(database, root_password) as conn, conn.cursor() as cur:
		cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,))
		has_db = cur.fetchone() is not None
		cur.execute("SELECT 1 FROM mysql.user WHERE user = %s", (name,))
		return has_db, cur.fetchone() is not None


def temporary_users(database: Database, root_password: str, prefix: str = "_tmp_") -> list[str]:
	"""Temporary users left behind (there should never be any), of one job's when `prefix` says."""
	with connection(database, root_password) as conn, conn.cursor() as cur:
		cur.execute("SELECT user FROM mysql.user WHERE user LIKE %s", (_like(prefix),))
		return [row[0] for row in cur.fetchall()]


def drop_temporary_users(database: Database, root_password: str, prefix: str) -> list[str]:
	"""Drops the temporary users whose names begin with the prefix; what went."""
	with connection(database, root_password) as conn, conn.cursor() as cur:
		cur.execute("SELECT user, host FROM mysql.user WHERE user LIKE %s", (_like(prefix),))
		dropped = []
		for user, host in cur.fetchall():
			cur.execute("DROP USER IF EXISTS %s@%s", (user, host))
			dropped.append(f"temporary user {user}")
		return dropped


def _like(prefix: str) -> str:
	return prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"


def size_mb(database: Database, name: str) -> float:
	"""The site database's size in MB (data and indexes), or 0 without the root password."""
	if not database.root_password:
		return 0.0
	with connection(database, database.root_password) as conn, conn.cursor() as cur:
		cur.execute("SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables "
			"WHERE table_schema = %s", (check_database_name(name),))
		return round(float(cur.fetchone()[0]) / 2**20, 2)
