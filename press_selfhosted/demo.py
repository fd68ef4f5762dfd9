"""`make demo`: the self-hosted platform end to end, proven over HTTPS.

First the platform CA alone: a wildcard served with a client that trusts only the platform
root (names under it accepted; a foreign name and an expired certificate refused). Then the
local executor's flow without Press, through the same runners Press's jobs reach: the
platform's MariaDB as a container, one bench (New Bench: the stand-in bench image, or a real
Frappe bench image with `--image`), and N sites on it (`--sites`, default 3), each made by New
Site (its own database and user) and Add Site to Upstream (a Traefik route read back through
Traefik's API, its name on PowerDNS read back from the server, a certificate from the platform
CA). Each site's login page is then fetched over HTTPS through Traefik, its address resolved
through PowerDNS, trusting only the platform root. Prints the table and tears everything down
unless `--keep`. Running it again with the sites kept changes nothing. Exits non-zero if any
proof fails.

	python -m press_selfhosted.demo --workdir DIR --bench-image-tar TAR --pdns-api URL --pdns-key-file F \
		--pdns-server IP:PORT --traefik-dir DIR --traefik-api URL --https-port N [--sites 10] [--image REF] [--keep | --down]

`make demo` starts the services and passes all of these (tools/demo.sh).
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from press_selfhosted.dns import DnsChecker, PlatformDns, PowerDns
from press_selfhosted.engine import LABEL_BENCH, Engine, object_name
from press_selfhosted.exceptions import ContainerNotFound, ImageMissing
from press_selfhosted.executor.bench import container_name, site_names
from press_selfhosted.executor.local import Flow, FlowFailed, remove_database, run_database
from press_selfhosted.executor.platform import Platform
from press_selfhosted.pki import CertificateAuthority, IssuedCertificate, inspect_certificate
from press_selfhosted.proxy import Proxy

# The stand-in bench image (tools/bench-image.sh): the demo's bench unless --image names a
# real one, and always its MariaDB.
STANDIN_IMAGE = "erp-saas-cloud-c16-demo/bench-standin:1"
BENCH = "demo"

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


def https_get(address: str, port: int, site: str, root_pem: str, *, client_files: dict | None = None,
		path: str = "/", timeout: float = 5.0) -> tuple[int, str, float]:
	"""GET https://site/path at address:port, trusting only `root_pem`, with the strict X.509
	checks of current Python: (status, body, seconds). Status 0 when the connection or the
	handshake fails; the body then says why (OpenSSL's verification message, if that failed)."""
	context = ssl.create_default_context(cadata=root_pem)
	context.verify_flags |= ssl.VERIFY_X509_STRICT
	if client_files:
		context.load_cert_chain(client_files["full_chain"], client_files["private_key"])
	started = time.perf_counter()
	try:
		with socket.create_connection((address, port), timeout=timeout) as raw:
			with context.wrap_socket(raw, server_hostname=site) as tls:
				tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {site}\r\nConnection: close\r\n\r\n".encode())
				reply = b"".join(iter(lambda: tls.recv(65536), b"")).decode(errors="replace")
		head, _, body = reply.partition("\r\n\r\n")
		return int(head.split(" ", 2)[1]), body.strip(), time.perf_counter() - started
	except ssl.SSLCertVerificationError as e:
		return 0, e.verify_message, time.perf_counter() - started
	except (ssl.SSLError, OSError, ValueError, IndexError) as e:
		return 0, f"{e.__class__.__name__}: {getattr(e, 'reason', None) or e}", time.perf_counter() - started


@dataclass
class Proof:
	site: str
	made_seconds: float
	routed_seconds: float
	cert_expiry: datetime | None
	status: int
	seconds: float
	ok: bool
	detail: str


def platform_ca(workdir: Path) -> CertificateAuthority:
	"""The demo platform's CA, created on the first run and loaded afterwards."""
	passphrase_file = workdir / "ca-passphrase"
	if not passphrase_file.exists():
		passphrase_file.touch(0o600)
		passphrase_file.write_text(secrets.token_urlsafe(24))
		CertificateAuthority.create(workdir / "ca", passphrase=passphrase_file.read_text())
	return CertificateAuthority.load(workdir / "ca", passphrase=passphrase_file.read_text())


def _kept(workdir: Path, name: str, make) -> str:
	"""A value made on the first run and read back on the next (0600: some are secrets)."""
	path = workdir / name
	if not path.exists():
		path.touch(0o600)
		path.write_text(str(make()))
	return path.read_text()


def site_certificates(ca: CertificateAuthority, folder: Path):
	"""Each site's certificate from the platform CA, kept and reused until it needs renewal,
	so running the demo again changes no route."""

	def certificate(site: str) -> tuple[str, str]:
		chain, key = folder / f"{site}.crt", folder / f"{site}.key"
		if not (chain.exists() and key.exists()) or inspect_certificate(chain.read_text()).needs_renewal(30):
			issued = ca.issue([site])
			folder.mkdir(parents=True, exist_ok=True)
			issued.write_files(folder, site)
			(folder / f"{site}.fullchain.crt").replace(chain)
		return chain.read_text(), key.read_text()

	return certificate


def build_flow(args: argparse.Namespace) -> tuple[Flow, CertificateAuthority, str]:
	"""The platform of the demo: its MariaDB and bench on the engine, Traefik, PowerDNS and
	the CA; returns the flow that makes sites, the CA, and the bench image."""
	workdir = args.workdir
	workdir.mkdir(parents=True, exist_ok=True)
	engine = Engine.connect(args.engine)
	try:
		engine.image_id(STANDIN_IMAGE)
	except ImageMissing:
		if args.bench_image_tar is None:
			raise SystemExit(f"demo: image {STANDIN_IMAGE} missing: pass --bench-image-tar (tools/bench-image.sh)") from None
		engine.import_rootfs(args.bench_image_tar, STANDIN_IMAGE)
	password = _kept(workdir, "mariadb-root-password", lambda: secrets.token_urlsafe(18))
	port = int(_kept(workdir, "mariadb-port", lambda: engine.allocate_ports(1)[0]))
	network = object_name("net", "demo")
	database = run_database(engine, STANDIN_IMAGE, name=object_name("db", "demo"), network=network, password=password,
		port=port)
	pdns = PowerDns(args.pdns_api, api_key=args.pdns_key_file.read_text().strip())
	pdns.ensure_zone(args.domain, nameservers=[f"ns1.{args.domain}"])
	ca = platform_ca(workdir)
	platform = Platform(engine=engine, database=database, proxy=Proxy(args.traefik_dir, args.traefik_api),
		dns=PlatformDns(pdns, DnsChecker([args.pdns_server]), ttl=60), address="127.0.0.1", network=network,
		site_certificate=site_certificates(ca, workdir / "certs"), owner="demo")
	return Flow(platform, root_password=password, bench_of=lambda site: BENCH), ca, args.image or STANDIN_IMAGE


def make_sites(flow: Flow, sites: list[str], image: str) -> tuple[list[tuple[str, float, float]], int]:
	"""The bench (New Bench), then each site not already there (New Site, Add Site to Upstream):
	[(site, seconds to make, seconds to route)] and how many sites were made."""
	flow.bench(BENCH, image, gunicorn_workers=1, background_workers=1)
	existing = set(site_names(flow.platform, BENCH))
	timings, made = [], 0
	for done, site in enumerate(sites, 1):
		if site in existing:
			routed = flow.job("POST", "proxy/upstreams/127.0.0.1/sites", {"name": site})
			timings.append((site, 0.0, _seconds(routed)))
			continue
		new, routed = flow.site(BENCH, site)
		made += 1
		timings.append((site, _seconds(new), _seconds(routed)))
		print(f"  [{done}/{len(sites)}] {site}: made in {_seconds(new):.1f} s, routed and resolved in {_seconds(routed):.1f} s")
	return timings, made


def _seconds(job) -> float:
	return (job.end - job.start).total_seconds()


def prove(flow: Flow, ca: CertificateAuthority, timings: list[tuple[str, float, float]], https_port: int) -> list[Proof]:
	"""Each site's login page over HTTPS through Traefik: its address from PowerDNS, trusting
	only the platform root; it must be the site's own page."""
	proofs = []
	for site, made, routed in timings:
		(address,) = flow.platform.dns.checker.lookup(site, "A") or ["(no A record)"]
		status, body, seconds = https_get(address, https_port, site, ca.root_pem, path="/login")
		ok = status == 200 and "Login" in body and (site in body or "standin" not in body)
		expiry = inspect_certificate(flow.platform.site_certificate(site)[0]).not_after
		proofs.append(Proof(site, made, routed, expiry, status, seconds, ok, body[:60]))
	return proofs


def print_table(proofs: list[Proof], https_port: int) -> None:
	header = ["site", "URL", "HTTPS", "cert expires", "new site s", "route+dns s", "https ms"]
	rows = [[p.site, f"https://{p.site}:{https_port}/login", f"{p.status} OK" if p.ok else f"FAILED {p.status} {p.detail}",
		f"{p.cert_expiry:%Y-%m-%d}" if p.cert_expiry else "-", f"{p.made_seconds:.1f}", f"{p.routed_seconds:.1f}",
		f"{p.seconds * 1000:.0f}"] for p in proofs]
	widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
	print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
	for row in rows:
		print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def run_sites(args: argparse.Namespace) -> bool:
	flow, ca, image = build_flow(args)
	sites = [f"site{i:02d}.{args.domain}" for i in range(1, args.sites + 1)]
	engine = flow.platform.engine
	print(f"\n{len(sites)} sites under {args.domain} on bench {BENCH} ({image}): {engine.kind} {engine.version}, "
		f"MariaDB {flow.platform.database.host}:{flow.platform.database.port}, PowerDNS {args.pdns_api}, "
		f"Traefik {args.traefik_api} (HTTPS on 127.0.0.1:{args.https_port})")
	started = time.perf_counter()
	try:
		timings, made = make_sites(flow, sites, image)
	except FlowFailed as e:
		print(f"\nSITES FAILED: {e}")
		return False
	print(f"{len(timings)} sites in {time.perf_counter() - started:.1f} s; "
		+ (f"{made} made" if made else "nothing changed: every site was already there"))
	print()
	proofs = prove(flow, ca, timings, args.https_port)
	print_table(proofs, args.https_port)
	ok = len(proofs) == len(sites) and all(p.ok for p in proofs)
	if args.keep:
		print(f"\nkept: {len(sites)} sites; `make demo ARGS=--down` removes them and stops the services")
	else:
		teardown(flow, args.domain)
	print("\nSITES OK: every site answers its login page over HTTPS through Traefik, found through PowerDNS, "
		"with a certificate the platform root alone vouches for" if ok else "\nSITES FAILED")
	return ok


def teardown(flow: Flow, domain: str) -> None:
	"""Archive Site and Remove Site from Upstream for every site, Archive Bench, then the
	platform's MariaDB: nothing of the demo is left on the engine, Traefik or PowerDNS."""
	started = time.perf_counter()
	engine = flow.platform.engine
	sites = site_names(flow.platform, BENCH) if _bench_runs(flow) else []
	for site in sites:
		flow.remove_site(BENCH, site)
	for site in flow.platform.proxy.sites():
		if site.endswith(f".{domain}"):
			flow.job("DELETE", f"proxy/upstreams/127.0.0.1/sites/{site}", {"extra_domains": []})
	flow.remove_bench(BENCH)
	remove_database(engine, object_name("db", "demo"))
	left = [site for site in flow.platform.proxy.sites() if site.endswith(f".{domain}")]
	containers = engine.list([f"{LABEL_BENCH}={BENCH}"])
	print(f"\ntorn down {len(sites)} sites and bench {BENCH} in {time.perf_counter() - started:.1f} s "
		f"(databases, site directories, routes, records, container, volumes); routes left: {len(left)}, "
		f"containers left: {len(containers)}")


def _bench_runs(flow: Flow) -> bool:
	try:
		return flow.platform.engine.inspect(container_name(flow.platform, BENCH)).running
	except ContainerNotFound:
		return False


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(description="The self-hosted platform, proven end to end over HTTPS.")
	parser.add_argument("--sites", type=int, default=3)
	parser.add_argument("--domain", default="demo.test")
	parser.add_argument("--keep", action="store_true", help="keep the sites (run again: nothing changes)")
	parser.add_argument("--down", action="store_true", help="remove the sites a --keep run left")
	parser.add_argument("--workdir", type=Path, required=True, help="the platform's state: CA, certificates, passwords")
	parser.add_argument("--engine", help="engine endpoint (unix://… or tcp://…); found automatically when omitted")
	parser.add_argument("--bench-image-tar", type=Path, help="the stand-in bench image's rootfs, imported when missing")
	parser.add_argument("--image", help="a real bench image on the engine to run the sites on (default: the stand-in)")
	parser.add_argument("--pdns-api", required=True)
	parser.add_argument("--pdns-key-file", type=Path, required=True)
	parser.add_argument("--pdns-server", required=True, help="PowerDNS's DNS address, ip:port")
	parser.add_argument("--traefik-dir", type=Path, required=True)
	parser.add_argument("--traefik-api", required=True)
	parser.add_argument("--https-port", type=int, required=True)
	args = parser.parse_args(argv)
	if not 1 <= args.sites <= 99:
		parser.error("--sites must be 1 to 99")
	if args.down:
		flow, _, _ = build_flow(args)
		teardown(flow, args.domain)
		return 0
	with tempfile.TemporaryDirectory(prefix="press-selfhosted-ca-proof-") as scratch:
		ok = run(args.domain, Path(scratch))
	ok = run_sites(args) and ok
	return 0 if ok else 1


if __name__ == "__main__":
	sys.exit(main())
