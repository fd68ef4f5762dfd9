"""How Press itself reaches the platform's sites over HTTPS (Login as Administrator, Site.ping,
usage sync, tenant storage): Press calls `https://<site>` with its own HTTP client, so its
process must resolve the platform's names and trust the platform CA. Neither is asked of the
host: nothing in /etc is edited.

- Names under the platform's zones are resolved in this process, through PowerDNS's
  authoritative answer (`DnsChecker`), and may be sent to where Traefik serves HTTPS on this
  host (`https_address`, when that is not the site's address on port 443). Other names go
  to the system's resolver as before.
- The CA's root is trusted beside the public roots: a bundle of both, named by
  REQUESTS_CA_BUNDLE (what requests reads on every request) for this process only.

	reach = SiteReach(["cloud.example.com"], DnsChecker(["127.0.0.1:5300"]), https_address="127.0.0.1:32303")
	install(reach)
	os.environ["REQUESTS_CA_BUNDLE"] = trust_bundle(root_pem, "/srv/ca/press-trust.pem")
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from pathlib import Path

from press_selfhosted.dns import DnsChecker
from press_selfhosted.exceptions import ValidationError

HTTPS_PORTS = (443, "443", "https")


def split_address(address: str) -> tuple[str, int]:
	host, sep, port = address.strip().rpartition(":")
	if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
		raise ValidationError(f"expected host:port, got {address!r}")
	return host.strip("[]"), int(port)


def server_address(address: str) -> str:
	"""An authoritative server as DnsChecker takes it, "ip:port", from "ip:port" or "host:port"
	(the compose stack names PowerDNS by its container name, whose address may change)."""
	host, port = split_address(address)
	try:
		ipaddress.ip_address(host)
	except ValueError:
		try:
			host = socket.gethostbyname(host)
		except OSError as e:
			raise ValidationError(f"the DNS server {host} does not resolve: {e}") from None
	return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class SiteReach:
	"""Where this process connects for a name of the platform's zones: (address, port)."""

	def __init__(self, zones: list[str], checker: DnsChecker, *, https_address: str | None = None, ttl: float = 30.0):
		self.zones = sorted({z.strip(".").lower() for z in zones if z}, key=len, reverse=True)
		self.checker = checker
		self.https = split_address(https_address) if https_address else None
		self.ttl = ttl
		self._cache: dict[str, tuple[float, str | None]] = {}
		self._lock = threading.Lock()

	def covers(self, host: str) -> bool:
		host = host.strip(".").lower()
		return any(host == z or host.endswith("." + z) for z in self.zones)

	def route(self, host: str, port) -> tuple[str, object] | None:
		"""None for a name outside the zones (the system resolves it)."""
		if not isinstance(host, str) or not self.covers(host):
			return None
		if self.https and port in HTTPS_PORTS:
			return self.https
		return self._address(host.strip(".").lower()), port

	def _address(self, host: str) -> str:
		with self._lock:
			cached = self._cache.get(host)
		if cached and cached[0] > time.monotonic():
			address = cached[1]
		else:
			address = self._lookup(host)
			with self._lock:
				self._cache[host] = (time.monotonic() + self.ttl, address)
		if not address:
			raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address on the platform's DNS")
		return address

	def _lookup(self, host: str) -> str | None:
		"""A site's record is an A, or a CNAME to its server's name (followed, a few hops)."""
		for _ in range(5):
			addresses = self.checker.lookup(host, "A")
			if addresses:
				return addresses[0]
			aliases = self.checker.lookup(host, "CNAME")
			if not aliases:
				return None
			host = aliases[0].rstrip(".")
			if not self.covers(host):
				return socket.gethostbyname(host)
		return None


_original = socket.getaddrinfo
_reach: SiteReach | None = None


def _getaddrinfo(host, port, *args, **kwargs):
	reach = _reach
	routed = reach.route(host, port) if reach and isinstance(host, str) else None
	if routed:
		host, port = routed
	return _original(host, port, *args, **kwargs)


def install(reach: SiteReach | None) -> None:
	"""Makes `reach` this process's resolver for the platform's names (None: none again)."""
	global _reach
	_reach = reach
	socket.getaddrinfo = _getaddrinfo if reach else _original


def installed() -> SiteReach | None:
	return _reach


def trust_bundle(root_pem: str, path: str | os.PathLike[str]) -> str:
	"""Writes the public roots (certifi's, or the bundle REQUESTS_CA_BUNDLE named before) and
	the platform root into `path`, when they differ from what is there; returns the path."""
	import certifi

	base = os.environ.get("REQUESTS_CA_BUNDLE")
	if not base or Path(base) == Path(path):
		base = certifi.where()
	wanted = Path(base).read_text().rstrip("\n") + "\n# the platform CA's root (press_selfhosted)\n" + root_pem.strip() + "\n"
	target = Path(path)
	if not target.exists() or target.read_text() != wanted:
		tmp = target.with_suffix(".tmp")
		tmp.write_text(wanted)
		tmp.replace(target)
	return str(target)
