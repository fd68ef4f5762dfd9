"""How Press itself reaches the platform's sites over HTTPS (Login as Administrator, Site.ping,
usage sync, tenant storage): Press calls `https://<site>` with its own HTTP client, so its
process must resolve the platform's names and trust the platform CA. Neither is asked of the
host: nothing in /etc is edited.

- Names under the platform's zones are resolved in this process, through PowerDNS's
  authoritative answer (`DnsChecker`), and may be sent to where Traefik serves HTTPS or HTTP on
  this host (`https_address`, `http_address`, when that is not the site's address on port 443
  or 80). A customer's own domain whose CNAME, asked of the platform's resolver for other
  names (`outside`), leads into those zones is reached the same way (Press's custom-domain
  check connects to it). Other names go to the system's resolver as before.
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
from collections.abc import Callable
from pathlib import Path

from press_selfhosted.dns import DnsChecker
from press_selfhosted.exceptions import ValidationError

HTTPS_PORTS = (443, "443", "https")
HTTP_PORTS = (80, "80", "http")


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


def in_zones(name: str, zones: list[str]) -> bool:
	name = name.strip(".").lower()
	return any(name == z or name.endswith("." + z) for z in (z.strip(".").lower() for z in zones if z))


def nameserver_for(name: object, zones: list[str], authoritative: str | None, outside: str | None) -> tuple[str, int] | None:
	"""Whom a DNS question about `name` goes to: the authoritative server for a name of the
	platform's zones, `outside` for any other; (host, port), or None for whomever the asker named."""
	server = authoritative if in_zones(str(name), zones) else outside
	return split_address(server) if server else None


class SiteReach:
	"""Where this process connects for a name of the platform's zones: (address, port)."""

	def __init__(self, zones: list[str], checker: DnsChecker, *, https_address: str | None = None,
			http_address: str | None = None, outside: Callable[[str], list[str]] | None = None, ttl: float = 30.0):
		self.zones = sorted({z.strip(".").lower() for z in zones if z}, key=len, reverse=True)
		self.checker = checker
		self.outside = outside
		self.https = split_address(https_address) if https_address else None
		self.http = split_address(http_address) if http_address else None
		self.ttl = ttl
		self._cache: dict[str, tuple[float, str | None]] = {}
		self._lock = threading.Lock()

	def covers(self, host: str) -> bool:
		return in_zones(host, self.zones)

	def route(self, host: str, port) -> tuple[str, object] | None:
		"""None for a name outside the zones that leads into none of them (the system resolves it)."""
		if not isinstance(host, str):
			return None
		host = host.strip(".").lower()
		if not self.covers(host):
			host = self._cached(("outside", host), lambda: self._platform_alias(host))
			if not host:
				return None
		if self.https and port in HTTPS_PORTS:
			return self.https
		if self.http and port in HTTP_PORTS:
			return self.http
		return self._address(host), port

	def _platform_alias(self, host: str) -> str | None:
		"""The platform name a customer's domain is a CNAME of (a few hops), as `outside` (the
		CNAME targets of a name, from the resolver for names outside the platform) answers."""
		if not self.outside:
			return None
		for _ in range(5):
			try:
				aliases = self.outside(host)
			except Exception:  # the resolver down or refusing: the name is the system's, as without one
				return None
			if not aliases:
				return None
			host = aliases[0].rstrip(".").lower()
			if self.covers(host):
				return host
		return None

	def _cached(self, key, find):
		with self._lock:
			cached = self._cache.get(key)
		if cached and cached[0] > time.monotonic():
			return cached[1]
		found = find()
		with self._lock:
			self._cache[key] = (time.monotonic() + self.ttl, found)
		return found

	def _address(self, host: str) -> str:
		address = self._cached(host, lambda: self._lookup(host))
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
