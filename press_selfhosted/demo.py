"""`make demo`: the self-hosted platform end to end, proven over HTTPS.

First the platform CA alone: a wildcard served with a client that trusts only the platform
root (names under it accepted; a foreign name and an expired certificate refused). Then N
tenants (`--tenants`, default 3), each with a container serving its page on a port from
32300–32500, an A record on PowerDNS verified against the server, a certificate from the
platform CA, a Traefik route verified enabled through Traefik's API, and a storage prefix.
Each site is then fetched over HTTPS through Traefik, its address resolved through PowerDNS,
trusting only the platform root. Prints the table, backs one tenant up to the store, and
tears everything down unless `--keep`. Running it again with the tenants kept changes
nothing. Exits non-zero if any proof fails.

	python -m press_selfhosted.demo --workdir DIR --s3 URL --pdns-api URL --pdns-key-file F \
		--pdns-server IP:PORT --traefik-dir DIR --traefik-api URL --https-port N [--tenants 50] [--keep | --down]

`make demo` starts the services and passes all of these (tools/demo.sh).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from press_selfhosted.dns import DnsChecker, PowerDns
from press_selfhosted.engine import Engine
from press_selfhosted.exceptions import ImageMissing, ProvisioningFailed
from press_selfhosted.pki import CertificateAuthority, IssuedCertificate, inspect_certificate
from press_selfhosted.proxy import Proxy
from press_selfhosted.storage import Store
from press_selfhosted.tenants import STEPS, Platform, TenantReport, backup, deprovision, provision

DEMO_IMAGE = "erp-saas-cloud-c16-demo/busybox:1"

# Host ports the platform publishes come from this range.
PORT_RANGE = range(32300, 32501)


def free_port(ports: range = PORT_RANGE) -> int:
	for port in ports:
		with socket.socket() as s:
			try:
				s.bind(("127.0.0.1", port))
			except OSError:
				continue
			return port
	raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


@contextmanager
def tls_server(
	certificate: IssuedCertificate,
	workdir: Path,
	*,
	port: int = 0,
	client_ca_pem: str | None = None,
) -> Iterator[int]:
	"""Serves HTTPS on 127.0.0.1 from a thread with `certificate` (full chain), answering
	every request with the Host it asked for. With `client_ca_pem`, clients must present a
	certificate for TLS client auth signed by that CA. Yields the port."""
	files = certificate.write_files(workdir, f"server-{secrets.token_hex(4)}")
	context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	context.load_cert_chain(files["full_chain"], files["private_key"])
	if client_ca_pem:
		context.verify_mode = ssl.CERT_REQUIRED
		context.load_verify_locations(cadata=client_ca_pem)
	listener = socket.create_server(("127.0.0.1", port))
	listener.settimeout(0.2)
	stopping = threading.Event()

	def serve() -> None:
		while not stopping.is_set():
			try:
				conn, _ = listener.accept()
			except TimeoutError:
				continue
			except OSError:
				return
			conn.settimeout(5)
			try:
				with context.wrap_socket(conn, server_side=True) as tls:
					request = tls.recv(4096).decode(errors="replace")
					host = next((line.split(":", 1)[1].strip() for line in request.splitlines() if line.lower().startswith("host:")), "")
					body = f"hello from {host}\n".encode()
					tls.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
			except (ssl.SSLError, OSError):
				conn.close()  # a refused handshake is the client's result to report

	thread = threading.Thread(target=serve, name="press-selfhosted-tls", daemon=True)
	thread.start()
	try:
		yield listener.getsockname()[1]
	finally:
		stopping.set()
		thread.join()
		listener.close()


@dataclass
class Handshake:
	server_name: str
	ok: bool
	detail: str
	seconds: float


def handshake(port: int, server_name: str, root_pem: str, *, client_files: dict | None = None) -> Handshake:
	"""One HTTPS request to 127.0.0.1:`port` for `server_name`, trusting only `root_pem`."""
	status, body, seconds = https_get("127.0.0.1", port, server_name, root_pem, client_files=client_files)
	detail = body.splitlines()[-1] if status == 200 else body if status == 0 else f"unexpected reply {status}"
	return Handshake(server_name, status == 200, detail, seconds)


def run(domain: str, workdir: Path) -> bool:
	passphrase = secrets.token_urlsafe(24)
	t0 = time.perf_counter()
	CertificateAuthority.create(workdir / "ca", passphrase=passphrase)
	offline = workdir / "offline"
	offline.mkdir(mode=0o700)
	shutil.move(workdir / "ca" / "root.key", offline / "root.key")
	ca = CertificateAuthority.load(workdir / "ca", passphrase=passphrase)
	wildcard = ca.issue([f"*.{domain}", domain])
	expired = ca.issue([f"*.{domain}"], not_before=datetime.now(timezone.utc) - timedelta(days=30), validity_days=1)
	minted = time.perf_counter() - t0

	root, leaf = inspect_certificate(ca.root_pem), wildcard.info()
	print(f"CA in {workdir / 'ca'} (keys encrypted; root key moved to {offline}), minted in {minted * 1000:.0f} ms")
	print(f"  root:     {root.subject}, expires {root.not_after:%Y-%m-%d}")
	print(f"  wildcard: {', '.join(leaf.names)}, expires {leaf.not_after:%Y-%m-%d} ({leaf.days_left} days left)")
	print()

	checks: list[tuple[str, bool, Handshake]] = []
	with tls_server(wildcard, workdir / "served", port=free_port()) as port:
		for name in (f"a.{domain}", f"b.{domain}", "evil.test"):
			checks.append(("wildcard", name != "evil.test", handshake(port, name, ca.root_pem)))
	with tls_server(expired, workdir / "served", port=free_port()) as expired_port:
		checks.append(("expired", False, handshake(expired_port, f"a.{domain}", ca.root_pem)))

	print(f"TLS handshakes on 127.0.0.1:{port} (client trusts only the platform root)")
	width = max(len(result.server_name) for _, _, result in checks)
	row = "{:<%d} {:<10} {:<9} {:<8} {:>7}  {}" % max(width, len("server name"))
	print(row.format("server name", "cert", "expected", "result", "ms", "detail"))
	all_as_expected = True
	for cert, expected, result in checks:
		as_expected = result.ok == expected
		all_as_expected &= as_expected
		print(
			row.format(
				result.server_name,
				cert,
				"accept" if expected else "refuse",
				("accepted" if result.ok else "refused") if as_expected else "WRONG",
				f"{result.seconds * 1000:.1f}",
				result.detail,
			)
		)
	print()
	print("PROOF OK: the platform CA's certificates are trusted exactly where they should be" if all_as_expected else "PROOF FAILED")
	return all_as_expected


def https_get(address: str, port: int, site: str, root_pem: str, *, client_files: dict | None = None) -> tuple[int, str, float]:
	"""GET https://site/ at address:port, trusting only `root_pem`, with the strict X.509
	checks of current Python: (status, body, seconds). Status 0 when the connection or the
	handshake fails; the body then says why (OpenSSL's verification message, if that failed)."""
	context = ssl.create_default_context(cadata=root_pem)
	context.verify_flags |= ssl.VERIFY_X509_STRICT
	if client_files:
		context.load_cert_chain(client_files["full_chain"], client_files["private_key"])
	started = time.perf_counter()
	try:
		with socket.create_connection((address, port), timeout=5) as raw:
			with context.wrap_socket(raw, server_hostname=site) as tls:
				tls.sendall(f"GET / HTTP/1.1\r\nHost: {site}\r\nConnection: close\r\n\r\n".encode())
				reply = b"".join(iter(lambda: tls.recv(65536), b"")).decode(errors="replace")
		head, _, body = reply.partition("\r\n\r\n")
		return int(head.split(" ", 2)[1]), body.strip(), time.perf_counter() - started
	except ssl.SSLCertVerificationError as e:
		return 0, e.verify_message, time.perf_counter() - started
	except (ssl.SSLError, OSError, ValueError, IndexError) as e:
		return 0, f"{e.__class__.__name__}: {getattr(e, 'reason', None) or e}", time.perf_counter() - started


@dataclass
class Proof:
	report: TenantReport
	status: int
	body: str
	seconds: float
	ok: bool


def platform_ca(workdir: Path) -> CertificateAuthority:
	"""The demo platform's CA, created on the first run and loaded afterwards."""
	passphrase_file = workdir / "ca-passphrase"
	if not passphrase_file.exists():
		passphrase_file.touch(0o600)
		passphrase_file.write_text(secrets.token_urlsafe(24))
		CertificateAuthority.create(workdir / "ca", passphrase=passphrase_file.read_text())
	return CertificateAuthority.load(workdir / "ca", passphrase=passphrase_file.read_text())


def build_platform(args: argparse.Namespace) -> Platform:
	workdir = args.workdir
	workdir.mkdir(parents=True, exist_ok=True)
	engine = Engine.connect(args.engine)
	try:
		engine.image_id(DEMO_IMAGE)
	except ImageMissing:
		if args.rootfs is None:
			raise SystemExit(f"demo: image {DEMO_IMAGE} missing: pass --rootfs with a rootfs tarball to import")
		engine.import_rootfs(args.rootfs, DEMO_IMAGE)
	dns = PowerDns(args.pdns_api, api_key=args.pdns_key_file.read_text().strip())
	dns.ensure_zone(args.domain, nameservers=[f"ns1.{args.domain}"])
	store = Store(args.s3, "demo-tenants", region=args.s3_region, access_key=os.environ["PRESS_SELFHOSTED_S3_ACCESS_KEY"],
		secret_key=os.environ["PRESS_SELFHOSTED_S3_SECRET_KEY"])
	store.ensure_bucket()
	return Platform(
		engine=engine,
		image=DEMO_IMAGE,
		dns=dns,
		checker=DnsChecker([args.pdns_server]),
		zone=args.domain,
		address="127.0.0.1",
		ca=platform_ca(workdir),
		proxy=Proxy(args.traefik_dir, args.traefik_api),
		store=store,
		data_dir=workdir,
	)


def provision_all(platform: Platform, tenants: list[str], concurrency: int, *, quiet: bool = False) -> tuple[list[TenantReport], list[ProvisioningFailed]]:
	"""Provisions every tenant, `concurrency` at a time; a failed one does not stop the others."""
	reports, failures, done = [], [], 0
	with ThreadPoolExecutor(max_workers=concurrency) as pool:
		futures = {pool.submit(provision, platform, tenant): tenant for tenant in tenants}
		for future in as_completed(futures):
			done += 1
			try:
				report = future.result()
			except ProvisioningFailed as e:
				failures.append(e)
				print(f"  [{done}/{len(tenants)}] {futures[future]}: FAILED at {e.step}: {e}")
				continue
			reports.append(report)
			if not quiet:
				what = ", ".join(report.changed) or "nothing (already complete)"
				print(f"  [{done}/{len(tenants)}] {report.tenant}: {sum(report.timings.values()):.2f} s, changed {what}")
	reports.sort(key=lambda r: r.tenant)
	return reports, failures


def prove(platform: Platform, reports: list[TenantReport], https_port: int) -> list[Proof]:
	"""Each site over HTTPS through Traefik: its address from PowerDNS, trusting only the
	platform root; it must answer its own page, never another tenant's."""
	proofs = []
	for report in reports:
		(address,) = platform.checker.lookup(report.site, "A") or ["(no A record)"]
		status, body, seconds = https_get(address, https_port, report.site, platform.ca.root_pem)
		ok = status == 200 and body == f"tenant {report.tenant} at {report.site}"
		proofs.append(Proof(report, status, body, seconds, ok))
	return proofs


def print_table(proofs: list[Proof], https_port: int) -> None:
	header = ["tenant", "URL", "HTTPS", "cert expires", *STEPS, "https"]
	rows = [
		[
			p.report.tenant,
			f"https://{p.report.site}:{https_port}/",
			f"{p.status} OK" if p.ok else f"FAILED {p.status} {p.body[:40]}",
			f"{p.report.cert_expiry:%Y-%m-%d}" if p.report.cert_expiry else "-",
			*(f"{p.report.timings.get(step, 0) * 1000:.0f}" for step in STEPS),
			f"{p.seconds * 1000:.0f}",
		]
		for p in proofs
	]
	widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
	print("  ".join(h.ljust(w) for h, w in zip(header, widths)) + "   (step times in ms)")
	for row in rows:
		print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def run_tenants(args: argparse.Namespace) -> bool:
	platform = build_platform(args)
	tenants = [f"t{i:02d}" for i in range(1, args.tenants + 1)]
	print(f"\n{len(tenants)} tenants under {args.domain}: {platform.engine.kind} {platform.engine.version}, "
		f"PowerDNS {args.pdns_api}, Traefik {args.traefik_api} (HTTPS on 127.0.0.1:{args.https_port}), S3 {args.s3}")
	started = time.perf_counter()
	reports, failures = provision_all(platform, tenants, args.concurrency)
	elapsed = time.perf_counter() - started
	changed = sum(len(r.changed) for r in reports)
	print(f"provisioned {len(reports)}/{len(tenants)} in {elapsed:.1f} s; "
		+ ("nothing changed: every tenant was already complete" if reports and not changed else f"{changed} steps changed something"))
	print()
	proofs = prove(platform, reports, args.https_port)
	print_table(proofs, args.https_port)
	ok = not failures and len(proofs) == len(tenants) and all(p.ok for p in proofs)
	if reports:
		with tempfile.TemporaryDirectory() as scratch:
			key, size, sha256 = backup(platform, reports[0].tenant, Path(scratch))
			stored = platform.store.head(key)
			same = stored["sha256"] == sha256 and stored["size"] == size
			print(f"\nbackup of {reports[0].tenant}: {platform.store.bucket}/{key}, {size} bytes, sha256 {sha256[:16]}…, "
				f"{'recorded by the store' if same else 'NOT as uploaded'}")
			ok &= same
	if args.keep:
		print(f"\nkept: {len(reports)} tenants; `make demo ARGS=--down` removes them and stops the services")
	else:
		teardown(platform, tenants)
	print("\nTENANTS OK: every tenant answers over HTTPS through Traefik, found through PowerDNS, "
		"with a certificate the platform root alone vouches for" if ok else "\nTENANTS FAILED")
	return ok


def teardown(platform: Platform, tenants: list[str], concurrency: int = 8) -> None:
	started = time.perf_counter()
	with ThreadPoolExecutor(max_workers=concurrency) as pool:
		undone = list(pool.map(lambda tenant: deprovision(platform, tenant), tenants))
	left = [site for site in platform.proxy.sites() if site.endswith(f".{platform.zone}")]
	print(f"\ntorn down {sum(1 for u in undone if u)} tenants in {time.perf_counter() - started:.1f} s "
		f"(containers, records, routes, certificates, storage); routes left: {len(left)}")

def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(description="The self-hosted platform, proven end to end over HTTPS.")
	parser.add_argument("--tenants", type=int, default=3)
	parser.add_argument("--domain", default="demo.test")
	parser.add_argument("--keep", action="store_true", help="keep the tenants (run again: nothing changes)")
	parser.add_argument("--down", action="store_true", help="remove the tenants a --keep run left")
	parser.add_argument("--concurrency", type=int, default=8)
	parser.add_argument("--workdir", type=Path, required=True, help="the platform's state: CA, tenants' files")
	parser.add_argument("--engine", help="engine endpoint (unix://… or tcp://…); found automatically when omitted")
	parser.add_argument("--rootfs", type=Path, help="rootfs tarball to import as the demo image when the engine lacks it")
	parser.add_argument("--s3", required=True, help="S3 endpoint (keys in PRESS_SELFHOSTED_S3_ACCESS_KEY/_SECRET_KEY)")
	parser.add_argument("--s3-region", default="garage")
	parser.add_argument("--pdns-api", required=True)
	parser.add_argument("--pdns-key-file", type=Path, required=True)
	parser.add_argument("--pdns-server", required=True, help="PowerDNS's DNS address, ip:port")
	parser.add_argument("--traefik-dir", type=Path, required=True)
	parser.add_argument("--traefik-api", required=True)
	parser.add_argument("--https-port", type=int, required=True)
	args = parser.parse_args(argv)
	if not 1 <= args.tenants <= 99:
		parser.error("--tenants must be 1 to 99")
	if args.down:
		platform = build_platform(args)
		teardown(platform, sorted(p.name for p in (args.workdir / "tenants").glob("*")))
		return 0
	with tempfile.TemporaryDirectory(prefix="press-selfhosted-ca-proof-") as scratch:
		ok = run(args.domain, Path(scratch))
	ok = run_tenants(args) and ok
	return 0 if ok else 1


if __name__ == "__main__":
	sys.exit(main())
