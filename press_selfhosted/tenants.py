"""One whole tenant on the self-hosted platform: a container serving it, its DNS record on
PowerDNS, a certificate from the platform CA, its Traefik route, and its storage prefix.

Each step checks what exists before it changes anything, so provisioning a tenant again
changes nothing. A step that fails rolls back everything the tenant got and raises
ProvisioningFailed naming the step and the cause.

	platform = Platform(engine=…, image=…, dns=…, checker=…, zone="cloud.example.com",
		address="10.0.0.2", ca=…, proxy=…, store=…, data_dir=Path("/var/lib/press-selfhosted"))
	report = provision(platform, "acme", progress=print)
	deprovision(platform, "acme")
"""

from __future__ import annotations

import re
import shutil
import socket
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from press_selfhosted.dns import DnsChecker, PowerDns
from press_selfhosted.engine import LABEL_KIND, LABEL_SITE, Engine, object_name
from press_selfhosted.exceptions import ContainerNotFound, ObjectNotFound, ProvisioningFailed, ValidationError
from press_selfhosted.pki import CertificateAuthority, inspect_certificate
from press_selfhosted.proxy import Proxy
from press_selfhosted.storage import Store, TenantPrefix

STEPS = ("container", "dns", "certificate", "route", "storage")
CONTAINER_PORT = 8080
# Renew a tenant's certificate this many days before it expires (Press alerts 30 days ahead).
RENEW_DAYS = 30
TENANT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


@dataclass
class Platform:
	"""The parts a tenant is made of. `address` is what the tenant's A record points at
	(Traefik's address); `data_dir` holds each tenant's files and certificate."""

	engine: Engine
	image: str
	dns: PowerDns
	checker: DnsChecker
	zone: str
	address: str
	ca: CertificateAuthority
	proxy: Proxy
	store: Store
	data_dir: Path
	timeout: float = 15.0

	def site(self, tenant: str) -> str:
		return f"{tenant}.{self.zone}"


@dataclass
class TenantReport:
	tenant: str
	site: str
	port: int = 0
	cert_expiry: datetime | None = None
	# Seconds each step took, in STEPS order.
	timings: dict[str, float] = field(default_factory=dict)
	# The steps that changed something (none when the tenant was already complete).
	changed: list[str] = field(default_factory=list)


Progress = Callable[[str, str, str], object]


def check_tenant(tenant: str) -> str:
	if not TENANT_NAME.match(tenant):
		raise ValidationError(f"a tenant is 1-32 lower-case letters, digits or inner hyphens, got {tenant!r}")
	return tenant


def provision(platform: Platform, tenant: str, *, progress: Progress | None = None) -> TenantReport:
	"""Gives the tenant everything it lacks, step by step; see the module's doc."""
	check_tenant(tenant)
	report = TenantReport(tenant, platform.site(tenant))
	steps = {
		"container": _container,
		"dns": _dns,
		"certificate": _certificate,
		"route": _route,
		"storage": _storage,
	}
	for step in STEPS:
		if progress:
			progress(tenant, step, "started")
		started = time.perf_counter()
		try:
			changed = steps[step](platform, report)
		except Exception as e:
			try:
				deprovision(platform, tenant)
				rolled_back = "rolled back"
			except Exception as cleanup:
				rolled_back = f"rollback incomplete: {cleanup}"
			raise ProvisioningFailed(tenant, step, f"{e.__class__.__name__}: {e}", rolled_back) from e
		report.timings[step] = time.perf_counter() - started
		if changed:
			report.changed.append(step)
		if progress:
			progress(tenant, step, "changed" if changed else "unchanged")
	return report


def deprovision(platform: Platform, tenant: str) -> list[str]:
	"""Removes whatever the tenant has, its route first so no request reaches a half-removed
	tenant; returns the steps it undid. Route and record are confirmed gone from Traefik and
	PowerDNS before it returns."""
	check_tenant(tenant)
	site, undone = platform.site(tenant), []
	if platform.proxy.remove_site(site):
		platform.proxy.wait_gone([f"{site}@file"], timeout=platform.timeout)
		undone.append("route")
	if platform.checker.lookup(site, "A"):
		platform.dns.delete(platform.zone, [(site, "A")])
		platform.checker.wait_for(site, "A", [], timeout=platform.timeout)
		undone.append("dns")
	if platform.store.delete_prefix(_prefix(tenant).prefix):
		undone.append("storage")
	try:
		platform.engine.remove(object_name("site", tenant), force=True)
		undone.append("container")
	except ContainerNotFound:
		pass
	if (_tenant_dir(platform, tenant) / "tls").exists():
		undone.append("certificate")
	shutil.rmtree(_tenant_dir(platform, tenant), ignore_errors=True)
	return undone


def backup(platform: Platform, tenant: str, workdir: Path) -> tuple[str, int, str]:
	"""Backs the tenant's files up under its prefix; returns (key, size, sha256)."""
	check_tenant(tenant)
	archive = workdir / f"{tenant}-{time.strftime('%Y%m%dT%H%M%S')}.tar.gz"
	with tarfile.open(archive, "w:gz") as tar:
		tar.add(_tenant_dir(platform, tenant) / "www", arcname="www")
	key = _prefix(tenant).key(f"backups/{archive.name}")
	info = platform.store.upload_file(archive, key)
	archive.unlink()
	return key, info["size"], info["sha256"]


def _tenant_dir(platform: Platform, tenant: str) -> Path:
	return platform.data_dir / "tenants" / tenant


def _prefix(tenant: str) -> TenantPrefix:
	return TenantPrefix(f"tenants/{tenant}")


def _write_if_changed(path: Path, text: str) -> bool:
	"""Replaces the file by rename, so the running container never serves half a page."""
	if path.exists() and path.read_text() == text:
		return False
	tmp = path.with_name(f".{path.name}.tmp")
	tmp.write_text(text)
	tmp.replace(path)
	return True


def _container(platform: Platform, report: TenantReport) -> bool:
	"""The tenant's container serves its own files (mounted read-only) on a platform port."""
	www = _tenant_dir(platform, report.tenant) / "www"
	www.mkdir(parents=True, exist_ok=True)
	page_changed = _write_if_changed(www / "index.html", f"tenant {report.tenant} at {report.site}\n")
	name = object_name("site", report.tenant)
	try:
		state = platform.engine.inspect(name)
	except ContainerNotFound:
		state = None
	if state is not None and state.running and state.ports.get(CONTAINER_PORT):
		report.port = state.ports[CONTAINER_PORT]
		created = False
	else:
		if state is not None:
			platform.engine.remove(name, force=True)
		with _PORTS:
			(report.port,) = platform.engine.allocate_ports()
			platform.engine.run(
				name,
				platform.image,
				["httpd", "-f", "-p", str(CONTAINER_PORT), "-h", "/www"],
				labels={LABEL_KIND: "site", LABEL_SITE: report.tenant},
				mounts=[(str(www), "/www", True)],
				ports={CONTAINER_PORT: report.port},
				restart="unless-stopped",
				init=True,
				memory_bytes=32 << 20,
			)
		created = True
	_wait_http(report.port, report.tenant, platform.timeout)
	return created or page_changed


def _dns(platform: Platform, report: TenantReport) -> bool:
	if platform.checker.lookup(report.site, "A") == [platform.address]:
		return False
	platform.dns.upsert(platform.zone, [(report.site, "A", 60, [platform.address])])
	platform.checker.wait_for(report.site, "A", [platform.address], timeout=platform.timeout)
	return True


def _certificate(platform: Platform, report: TenantReport) -> bool:
	tls = _tenant_dir(platform, report.tenant) / "tls"
	chain = tls / "site.fullchain.crt"
	if chain.exists() and (tls / "site.key").exists():
		info = inspect_certificate(chain.read_text())
		if report.site in info.names and not info.needs_renewal(RENEW_DAYS):
			report.cert_expiry = info.not_after
			return False
	files = platform.ca.issue([report.site]).write_files(tls, "site")
	report.cert_expiry = inspect_certificate(Path(files["full_chain"]).read_text()).not_after
	return True


def _route(platform: Platform, report: TenantReport) -> bool:
	tls = _tenant_dir(platform, report.tenant) / "tls"
	certificate = ((tls / "site.fullchain.crt").read_text(), (tls / "site.key").read_text())
	routes = platform.proxy.write_site(report.site, [f"http://127.0.0.1:{report.port}"], certificate=certificate)
	platform.proxy.wait_loaded(routes, timeout=platform.timeout)
	return routes[0].changed


def _storage(platform: Platform, report: TenantReport) -> bool:
	"""The tenant's prefix exists once it holds its marker, which names the site."""
	marker = _prefix(report.tenant).key(".tenant")
	try:
		platform.store.head(marker)
		return False
	except ObjectNotFound:
		platform.store.put_bytes(marker, report.site.encode())
		return True


# Allocating a port and publishing it are one step, so two tenants never get the same.
_PORTS = threading.Lock()


def _wait_http(port: int, expect: str, timeout: float) -> None:
	"""Until the container answers its page on the port, or ProvisioningFailed's cause."""
	deadline, last = time.monotonic() + timeout, "no answer"
	while time.monotonic() < deadline:
		try:
			with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
				conn.sendall(b"GET / HTTP/1.0\r\nHost: tenant\r\n\r\n")
				reply = b"".join(iter(lambda: conn.recv(65536), b"")).decode(errors="replace")
			if reply.startswith("HTTP/1.") and " 200 " in reply.split("\r\n", 1)[0] and expect in reply:
				return
			last = reply.split("\r\n", 1)[0]
		except OSError as e:
			last = str(e)
		time.sleep(0.1)
	raise TimeoutError(f"the container did not serve its page on port {port} within {timeout:.0f} s ({last})")
