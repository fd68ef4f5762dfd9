"""`bench selfhosted doctor`: is every service the platform depends on there and usable?

Plain data in (the settings as a dict, passwords decrypted), one row per dependency out, so
the same checks run from the bench command, the desk and the tests:

	results = run_checks(checks_from_settings(settings))
	print(format_table(results))
"""

from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from press_selfhosted.exceptions import SelfHostedError

# A CA whose intermediate expires within this many days cannot issue 90-day certificates.
CA_MIN_DAYS = 90


@dataclass
class CheckResult:
	name: str
	ok: bool
	detail: str
	seconds: float


class CheckFailed(SelfHostedError):
	"""A dependency answered, but not as the platform needs."""


def run_checks(checks: dict[str, Callable[[], str]]) -> list[CheckResult]:
	"""Runs each check; one that raises fails with the exception's message, not the run."""
	results = []
	for name, check in checks.items():
		started = time.perf_counter()
		try:
			ok, detail = True, check()
		except Exception as e:  # a doctor reports every failure; it never stops at the first
			ok, detail = False, f"{e.__class__.__name__}: {e}"
		results.append(CheckResult(name, ok, detail, time.perf_counter() - started))
	return results


def format_table(results: list[CheckResult]) -> str:
	width = max([len(r.name) for r in results] + [len("service")])
	lines = [f"{'service':<{width}}  result  {'ms':>6}  detail"]
	for r in results:
		lines.append(f"{r.name:<{width}}  {'pass' if r.ok else 'FAIL':<6}  {r.seconds * 1000:>6.0f}  {r.detail}")
	return "\n".join(lines)


def check_engine(endpoint: str | None) -> str:
	from press_selfhosted.engine import Engine

	engine = Engine.connect(endpoint or None)
	return f"{engine.kind} {engine.version} at {engine.endpoint}"


def check_ports(endpoint: str | None, start: int, end: int) -> str:
	"""How many pairs of host ports (a bench publishes two) are free in the platform's range."""
	from press_selfhosted.engine import Engine
	from press_selfhosted.exceptions import PortsExhausted
	from press_selfhosted.executor.platform import check_ports as check_range

	start, end = check_range(start, end)
	engine = Engine.connect(endpoint or None)
	free, most = 0, end - start + 1  # the engine finds the lowest free ports: the largest count it can is what is free
	while free < most:
		count = (free + most + 1) // 2
		try:
			engine.allocate_ports(count, start=start, end=end)
			free = count
		except PortsExhausted:
			most = count - 1
	if free < 2:
		raise CheckFailed(f"no two host ports are free in {start}-{end} on {engine.endpoint}: no bench can be made there")
	return f"{free // 2} pairs of host ports free in {start}-{end} on {engine.endpoint}"


def check_storage(endpoint: str, bucket: str, *, region: str, access_key: str, secret_key: str, ca_bundle: str | None = None) -> str:
	"""The bucket lists with these keys, and an object can be written, read and deleted."""
	from press_selfhosted.storage import Store

	store = Store(endpoint, bucket, region=region, access_key=access_key, secret_key=secret_key, ca_bundle=ca_bundle or None)
	store.ensure_bucket()
	key = f"press-selfhosted-doctor/{socket.gethostname()}-{time.time_ns()}"
	store.put_bytes(key, b"doctor")
	try:
		if store.get_bytes(key) != b"doctor":
			raise CheckFailed("an object read back differs from what was written")
	finally:
		store.delete(key)
	return f"bucket {bucket} at {endpoint}: write, read and delete work"


def check_tenant_keys(url: str, token: str, *, ca_bundle: str | None = None) -> str:
	"""Garage's admin API answers with this token, so new sites can get keys of their own."""
	from press_selfhosted.storage import GarageAdmin

	return f"Garage admin API at {url}: {len(GarageAdmin(url, token, ca_bundle=ca_bundle or None).key_names())} keys"


def check_powerdns(url: str, api_key: str, *, server_id: str = "localhost", zone: str | None = None, dns_server: str | None = None) -> str:
	"""The API takes the key; the zone, if given, exists and its NS answers on the DNS port."""
	from press_selfhosted.dns import DnsChecker, PowerDns
	from press_selfhosted.reach import server_address

	zones = PowerDns(url, api_key=api_key, server_id=server_id).zones()
	if zone:
		canonical = zone.rstrip(".") + "."
		if canonical not in zones:
			raise CheckFailed(f"zone {zone} is not on PowerDNS (it has {len(zones)} zones)")
		if dns_server and not DnsChecker([server_address(dns_server)]).lookup(zone, "NS"):
			raise CheckFailed(f"{dns_server} does not answer the NS records of {zone}")
	return f"API at {url}: {len(zones)} zones" + (f", {zone} answers on {dns_server}" if zone and dns_server else "")


def check_traefik(api_url: str, config_dir: str) -> str:
	"""Traefik's API answers and its file-provider directory is writable by us."""
	from press_selfhosted.proxy import Proxy

	if not Path(config_dir).is_dir():  # checked first: Proxy would create it, hiding a wrong path
		raise CheckFailed(f"{config_dir} is not a directory: point it at Traefik's file provider directory")
	routers = Proxy(config_dir, api_url).routers()
	with tempfile.NamedTemporaryFile(dir=config_dir, prefix=".doctor-", suffix=".tmp"):
		pass  # not .yaml: Traefik never reads it
	disabled = [r.name for r in routers if r.status != "enabled"]
	if disabled:
		raise CheckFailed(f"{len(disabled)} routers not enabled: {', '.join(disabled[:5])}")
	return f"API at {api_url}: {len(routers)} routers enabled; {config_dir} writable"


def check_ca(directory: str, passphrase: str | None) -> str:
	"""The CA loads with its passphrase and its intermediate outlives a 90-day certificate."""
	from press_selfhosted.pki import CertificateAuthority, inspect_certificate

	ca = CertificateAuthority.load(directory, passphrase=passphrase or None)
	intermediate = inspect_certificate(ca.intermediate_pem)
	if intermediate.days_left < CA_MIN_DAYS:
		raise CheckFailed(f"the intermediate expires in {intermediate.days_left} days; renew the CA")
	return f"{Path(directory)}: intermediate valid {intermediate.days_left} more days"


def check_mariadb(host: str, port: int) -> str:
	"""MariaDB's handshake: the server greets with its version (or refuses with a reason)."""
	with socket.create_connection((host, port), timeout=5) as conn:
		packet = conn.recv(1024)
	if len(packet) < 6:
		raise CheckFailed("no MariaDB greeting")
	payload = packet[4:]
	if payload[0] == 0xFF:  # an error packet: code (2 bytes), then the message
		raise CheckFailed(payload[3:].decode(errors="replace").lstrip("#").strip())
	version = payload[1:].split(b"\0", 1)[0].decode(errors="replace")
	version = version.removeprefix("5.5.5-")  # MariaDB's prefix for clients of MySQL 5.5
	return f"{host}:{port}: server {version}"


def check_redis(host: str, port: int, password: str | None = None) -> str:
	with socket.create_connection((host, port), timeout=5) as conn:
		if password:
			conn.sendall(_resp("AUTH", password))
			if not conn.recv(1024).startswith(b"+OK"):
				raise CheckFailed("Redis refused the password")
		conn.sendall(_resp("PING"))
		reply = conn.recv(1024)
	if not reply.startswith(b"+PONG"):
		raise CheckFailed(reply.decode(errors="replace").strip().lstrip("-"))
	return f"{host}:{port}: PONG"


def _resp(*words: str) -> bytes:
	encoded = [w.encode() for w in words]
	return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in encoded)


def checks_from_settings(settings: dict) -> dict[str, Callable[[], str]]:
	"""The checks that `Selfhosted Settings` (as a dict) configures; what is not configured
	fails with a message saying which field to fill in."""

	def need(*fields: str) -> None:
		missing = [f for f in fields if not settings.get(f)]
		if missing:
			raise CheckFailed(f"not configured: set {', '.join(missing)} in Selfhosted Settings")

	endpoints = [line.strip() for line in (settings.get("engine_endpoints") or "").splitlines() if line.strip()] or [None]

	def engine() -> str:
		return "; ".join(check_engine(e) for e in endpoints)

	def ports() -> str:
		from press_selfhosted.executor.platform import PORTS

		start, end = settings.get("port_range_start") or PORTS[0], settings.get("port_range_end") or PORTS[1]
		return "; ".join(check_ports(e, start, end) for e in endpoints)

	def storage() -> str:
		need("s3_endpoint", "s3_bucket", "s3_access_key", "s3_secret_key")
		return check_storage(settings["s3_endpoint"], settings["s3_bucket"], region=settings.get("s3_region") or "us-east-1",
			access_key=settings["s3_access_key"], secret_key=settings["s3_secret_key"], ca_bundle=settings.get("s3_ca_bundle"))

	def powerdns() -> str:
		need("pdns_api_url", "pdns_api_key")
		return check_powerdns(settings["pdns_api_url"], settings["pdns_api_key"], server_id=settings.get("pdns_server_id") or "localhost",
			zone=settings.get("root_domain"), dns_server=settings.get("dns_server"))

	def traefik() -> str:
		need("traefik_api_url", "traefik_config_dir")
		return check_traefik(settings["traefik_api_url"], settings["traefik_config_dir"])

	def ca() -> str:
		need("ca_directory")
		return check_ca(settings["ca_directory"], settings.get("ca_passphrase"))

	def tenant_keys() -> str:
		need("s3_admin_token")
		return check_tenant_keys(settings["s3_admin_url"], settings["s3_admin_token"], ca_bundle=settings.get("s3_ca_bundle"))

	found = {"engine": engine, "ports": ports, "storage": storage, "powerdns": powerdns, "traefik": traefik, "ca": ca}
	if settings.get("s3_admin_url"):  # optional: without it, sites share the bucket
		found["tenant_keys"] = tenant_keys
	return found


def main(argv: list[str] | None = None) -> int:
	"""`python -m press_selfhosted.doctor SETTINGS.json`: the same checks as `bench selfhosted
	doctor`, from Selfhosted Settings' fields given as JSON (a file, or - for standard input),
	without Frappe: for a platform whose Press runs elsewhere, or not yet. Exits 1 if any fails."""
	import argparse
	import json
	import sys

	parser = argparse.ArgumentParser(prog="python -m press_selfhosted.doctor", description=main.__doc__)
	parser.add_argument("settings", help="a JSON object of Selfhosted Settings' fields, or - to read it from standard input")
	args = parser.parse_args(argv)
	try:
		text = sys.stdin.read() if args.settings == "-" else Path(args.settings).read_text()
	except OSError as e:
		parser.error(f"cannot read the settings: {e.strerror}: {args.settings}")
	try:
		settings = json.loads(text)
	except ValueError as e:
		parser.error(f"the settings are not JSON: {e}")
	if not isinstance(settings, dict):
		parser.error("the settings must be one JSON object")
	results = run_checks(checks_from_settings(settings))
	print(format_table(results))
	return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
	raise SystemExit(main())
