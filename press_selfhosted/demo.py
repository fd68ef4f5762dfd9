"""`make demo`: the platform's certificate authority and a demo tenant on a real engine.

Mints a CA (keys encrypted, root key moved offline), issues a wildcard certificate for the
demo domain, serves HTTPS with it on a port in 32300–32500, and connects with a client that
trusts only the platform root: names under the wildcard must succeed; a foreign name and an
expired certificate must fail. Then starts a demo tenant container on the container engine
(detected, or `--engine`), on a host port allocated from the same range, and proves it
answers. Prints the proof; exits non-zero if any check differs.

With `--s3`, the tenant's data is backed up to the object store and read back.

	python -m press_selfhosted.demo [--domain demo.test] [--engine URL] [--rootfs TAR] [--s3 URL] [--keep]
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
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from press_selfhosted.engine import LABEL_KIND, LABEL_SITE, Engine, object_name
from press_selfhosted.exceptions import ImageMissing
from press_selfhosted.pki import CertificateAuthority, IssuedCertificate, inspect_certificate
from press_selfhosted.storage import Store, TenantPrefix

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
	"""Connects to 127.0.0.1:`port` asking for `server_name`, trusting only `root_pem`, with
	the strict X.509 checks of current Python, and makes one HTTP request."""
	context = ssl.create_default_context(cadata=root_pem)
	context.verify_flags |= ssl.VERIFY_X509_STRICT
	if client_files:
		context.load_cert_chain(client_files["full_chain"], client_files["private_key"])
	started = time.perf_counter()
	try:
		with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
			with context.wrap_socket(raw, server_hostname=server_name) as tls:
				tls.sendall(f"GET / HTTP/1.1\r\nHost: {server_name}\r\n\r\n".encode())
				reply = tls.recv(4096).decode(errors="replace")
		ok = reply.startswith("HTTP/1.1 200")
		detail = reply.splitlines()[-1] if ok else f"unexpected reply {reply[:40]!r}"
	except ssl.SSLCertVerificationError as e:
		ok, detail = False, e.verify_message
	except (ssl.SSLError, OSError) as e:
		ok, detail = False, e.__class__.__name__ + ": " + (getattr(e, "reason", None) or str(e))
	return Handshake(server_name, ok, detail, time.perf_counter() - started)


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


def run_tenant(endpoint: str | None, rootfs: Path | None, keep: bool, store: Store | None, workdir: Path) -> bool:
	"""Starts the demo tenant's container, proves it serves its page, and backs its data up."""
	engine = Engine.connect(endpoint)
	print(f"\nDemo tenant on {engine.kind} {engine.version} at {engine.endpoint}")
	try:
		engine.image_id(DEMO_IMAGE)
	except ImageMissing:
		if rootfs is None:
			print(f"  image {DEMO_IMAGE} missing: pass --rootfs with a rootfs tarball to import")
			return False
		engine.import_rootfs(rootfs, DEMO_IMAGE)
	name = object_name("site", "demo")
	for old in engine.list([f"{LABEL_SITE}=demo", f"{LABEL_KIND}=site"]):
		engine.remove(old.id, force=True)  # a kept tenant from an earlier run
	(port,) = engine.allocate_ports()
	started = time.perf_counter()
	engine.run(name, DEMO_IMAGE, ["httpd", "-f", "-p", "8080", "-h", "/www"], labels={LABEL_KIND: "site", LABEL_SITE: "demo"},
		ports={8080: port}, restart="unless-stopped", init=True, memory_bytes=64 * 1024 * 1024)
	body, deadline = "", time.monotonic() + 15
	while not body and time.monotonic() < deadline:
		try:
			with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
				conn.sendall(b"GET / HTTP/1.0\r\nHost: demo\r\n\r\n")
				reply = conn.makefile("rb").read().decode(errors="replace")
			status = reply.split(" ", 2)[1] if reply.startswith("HTTP/") else ""
			body = reply.split("\r\n\r\n", 1)[1].strip() if status == "200" else ""
		except OSError:
			time.sleep(0.2)
	answered = time.perf_counter() - started
	state = engine.inspect(name)
	print(f"  container {state.name} ({state.status}), 127.0.0.1:{port} -> 8080, answered in {answered * 1000:.0f} ms: {body!r}")
	listing = engine.exec(name, ["ls", "/www"], on_line=lambda stream, line: print(f"  exec ls /www | {line}"))
	ok = bool(body) and state.running and listing.exit_code == 0
	if store is not None:
		ok = backup_tenant(engine, name, store, workdir) and ok
	if keep:
		print(f"  kept: http://127.0.0.1:{port}/")
	else:
		engine.remove(name, force=True)
	print("TENANT OK: the demo tenant runs on the engine, answers on its port and is backed up" if ok else "TENANT FAILED")
	return ok


def backup_tenant(engine: Engine, container: str, store: Store, workdir: Path) -> bool:
	"""Takes the tenant's data out of its container, backs it up under the tenant's prefix in
	the store (checksum recorded), reads it back verified, and compares."""
	data = engine.exec(container, ["cat", "/www/index.html"], check=True).stdout.encode()
	(workdir / "tenant-data").write_bytes(data)
	store.ensure_bucket()
	key = TenantPrefix("tenants/demo").key("backups/index.html")
	uploaded = store.upload_file(workdir / "tenant-data", key)
	store.download_file(key, workdir / "restored")
	same = (workdir / "restored").read_bytes() == data
	print(f"  backup  {store.bucket}/{key}: {uploaded['size']} bytes, sha256 {uploaded['sha256'][:16]}…, "
		f"read back {'identical' if same else 'DIFFERENT'}")
	store.delete(key)
	return same


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(description="Prove the platform CA with real TLS handshakes.")
	parser.add_argument("--domain", default="demo.test")
	parser.add_argument("--keep", action="store_true", help="keep the CA, certificates and tenant (their places are printed)")
	parser.add_argument("--engine", help="engine endpoint (unix://… or tcp://…); found automatically when omitted")
	parser.add_argument("--rootfs", type=Path, help="rootfs tarball to import as the demo image when the engine lacks it")
	parser.add_argument("--s3", help="S3 endpoint for the backup (credentials in PRESS_SELFHOSTED_S3_ACCESS_KEY/_SECRET_KEY)")
	parser.add_argument("--s3-region", default="garage")
	args = parser.parse_args(argv)
	store = None
	if args.s3:
		store = Store(args.s3, "demo-backups", region=args.s3_region, access_key=os.environ["PRESS_SELFHOSTED_S3_ACCESS_KEY"],
			secret_key=os.environ["PRESS_SELFHOSTED_S3_SECRET_KEY"])
	workdir = Path(tempfile.mkdtemp(prefix="press-selfhosted-demo-"))
	try:
		ok = run(args.domain, workdir)
		ok = run_tenant(args.engine, args.rootfs, args.keep, store, workdir) and ok
	finally:
		if args.keep:
			print(f"kept {workdir}")
		else:
			shutil.rmtree(workdir)
	return 0 if ok else 1


if __name__ == "__main__":
	sys.exit(main())
