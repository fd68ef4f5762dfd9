"""What the local executor runs against: one container engine for the benches, the platform's
MariaDB, Traefik and PowerDNS. Plain data: the Frappe side fills it from Selfhosted Settings
and the marked servers; tests and the demo fill it from the services they started."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from press_selfhosted.dns import PlatformDns
from press_selfhosted.engine import Engine
from press_selfhosted.exceptions import ValidationError, ZoneMissing
from press_selfhosted.proxy import Proxy
from press_selfhosted.storage import Store

@dataclass(frozen=True)
class Database:
	"""The Database Server: `host:port` as the executor reaches it, `bench_host:bench_port` as
	a bench container does (a network alias, or the bridge gateway where MariaDB listens)."""

	host: str
	port: int
	bench_host: str
	bench_port: int
	root_user: str = "root"
	# For what Press asks synchronously (a site's database size); jobs bring their own.
	root_password: str | None = field(default=None, repr=False)


OWNER = re.compile(r"^[a-z0-9]{1,12}$")
# Every host port the platform publishes is in this range.
PORTS = (32300, 32500)


def check_ports(start: object, end: object) -> tuple[int, int]:
	"""A range of host ports for benches: integers, start before end, inside PORTS."""
	if any(isinstance(v, bool) or not isinstance(v, int) for v in (start, end)):
		raise ValidationError(f"a port range is two integers, got {start!r} and {end!r}")
	if not PORTS[0] <= start < end <= PORTS[1]:
		raise ValidationError(f"a port range lies inside {PORTS[0]}-{PORTS[1]}, start before end, got {start}-{end}")
	return start, end


def _no_bench(site: str) -> str:
	raise ValidationError(f"no bench is known for {site}")


@dataclass
class Platform:
	engine: Engine
	database: Database
	proxy: Proxy
	dns: PlatformDns | None
	# What a site's A record points at: Traefik's address.
	address: str
	# The network bench containers join, reachable there by their container name.
	network: str | None = None
	# How Traefik reaches a bench: its published loopback ports (Traefik on the host), or its
	# name on `network` (Traefik in a container on that network).
	upstream: Literal["loopback", "network"] = "loopback"
	# A site's own certificate (full chain, key), or None where the platform's wildcard
	# (Traefik's default certificate, kept by the TLS integration) covers it.
	site_certificate: Callable[[str], tuple[str, str] | None] = field(default=lambda site: None)
	timeout: float = 120.0
	# The bench a site (or one of its domains) lives on, and the site a domain belongs to (the
	# Frappe side reads them from Press's Site and Site Domain).
	bench_of: Callable[[str], str] = field(default=_no_bench)
	site_of: Callable[[str], str] = field(default=lambda host: host)
	# The host ports benches publish (Selfhosted Settings' range), inside the platform's.
	ports: tuple[int, int] = PORTS
	# Tells the administrator something they must act on (a Frappe side: an Error Log entry).
	alert: Callable[[str], object] = field(default=print)
	# This platform's id on the engine (in names and labels): several Press sites may share one
	# engine, and each numbers its benches from bench-0001.
	owner: str = "local"
	# The platform's S3 store for a bucket (Selfhosted Settings), and its endpoint: backups go
	# there, and restores fetch links to it by key, checksum checked. None: the request's own.
	store: Callable[[str], Store] | None = None
	store_endpoint: str | None = None
	# Press's image registry (Press Settings): images only under it that no container uses are
	# old builds, which Cleanup Unused Files removes (a bench pulls its image again).
	registry: str | None = None
	# How long a backup waits for a store that does not answer before it fails.
	store_patience: float = 120.0
	# A site's storage quota, (store, prefix, bytes), or None for no quota (its Tenant Storage).
	quota: Callable[[str], tuple[Store, str, int] | None] = field(default=lambda site: None)
	# The files Press's Dockerfile copies besides the apps, {path in the context: bytes}, for a
	# Deploy Candidate's parameters and platform (the Frappe side reads them from Press's own
	# press/docker folder).
	build_files: Callable[[dict, str], dict[str, bytes]] = field(default=lambda params, platform: {})

	def check_in_zone(self, name: str) -> None:
		"""A site is named in one of the platform's zones (its Root Domain), or ZoneMissing
		before anything is made; custom domains go through the proxy's own jobs unchecked."""
		if self.dns and not self.dns.zone_for(name):
			raise ZoneMissing(f"{name} is in no zone on PowerDNS: a site's name must be under a Root Domain")

	def __post_init__(self):
		check_ports(*self.ports)
		if not OWNER.match(self.owner):
			raise ValidationError(f"a platform's owner id is 1-12 lower-case letters and digits, got {self.owner!r}")
