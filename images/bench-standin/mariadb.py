"""Runs the platform's MariaDB in a container of this image (the tests' Database Server, on the
platform network beside the benches): initialises the data directory on first start, gives
root@'%' the password of $MARIADB_ROOT_PASSWORD, then becomes mariadbd. Installed as
`platform-mariadb`."""

import os
from pathlib import Path

DATA = Path(os.environ.get("MARIADB_DATA", "/var/lib/mysql"))
password = os.environ["MARIADB_ROOT_PASSWORD"]
if not (DATA / "mysql").exists():
	DATA.mkdir(parents=True, exist_ok=True)
	os.spawnvp(os.P_WAIT, "mariadb-install-db", ["mariadb-install-db", "--no-defaults", f"--datadir={DATA}",
		"--auth-root-authentication-method=normal", "--user=root", "--skip-test-db"])
quoted = password.replace("\\", "\\\\").replace("'", "\\'")
init = DATA / "init.sql"
init.touch(mode=0o600)
init.write_text(f"CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '{quoted}';\n"
	f"ALTER USER 'root'@'%' IDENTIFIED BY '{quoted}';\n"
	"GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;\n")
os.environ.pop("MARIADB_ROOT_PASSWORD")
os.execvp("mariadbd", ["mariadbd", "--no-defaults", f"--datadir={DATA}", "--user=root", "--port=3306",
	"--bind-address=0.0.0.0", f"--init-file={init}", "--skip-name-resolve", "--socket=/run/mysqld.sock"])
