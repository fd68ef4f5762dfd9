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

# Press's job steps, from its Agent Job Type fixture: Press matches polled steps by name.
STEPS: dict[str, tuple[str, ...]] = {
	"New Bench": ("Initialize Bench", "Update Bench Configuration", "Deploy Bench", "Bench Setup NGINX"),
	"Archive Bench": ("Bench Disable Production", "Move Bench to Archived Directory"),
	"Bench Restart": ("Bench Restart",),
	"Update Bench Configuration": (
		"Update Bench Configuration", "Bench Setup NGINX", "Generate Docker Compose File",
		"Update Bench Memory Limits", "Deploy Bench",
	),
	"New Site": (
		"New Site", "Install Apps", "Update Site Configuration", "Enable Scheduler", "Create User",
		"Bench Setup NGINX", "Reload NGINX",
	),
	"Update Site Configuration": ("Update Site Configuration",),
	"Archive Site": ("Backup Site", "Upload Site Backup to S3", "Archive Site", "Bench Setup NGINX", "Reload NGINX"),
	"Rename Site": (
		"Enable Maintenance Mode", "Wait for Enqueued Jobs", "Update Site Configuration", "Rename Site",
		"Bench Setup NGINX", "Reload NGINX", "Disable Maintenance Mode", "Enable Scheduler", "Create User",
	),
	"Add Upstream to Proxy": ("Add Upstream Directory", "Reload NGINX"),
	"Add Site to Upstream": ("Add Site File to Upstream Directory", "Reload NGINX"),
	"Add Domain to Upstream": ("Add Site File to Upstream Directory", "Reload NGINX"),
	"Remove Site from Upstream": ("Remove Site File from Upstream Directory",),
	"Update Site Status": ("Update Site File", "Reload NGINX"),
	"Rename Site on Upstream": (
		"Rename Site File in Upstream Directory", "Rename Host Directory", "Rename Site in Host Directory",
		"Reload NGINX",
	),
	"Add Host to Proxy": ("Add Host to Proxy", "Reload NGINX"),
	"Remove Host from Proxy": ("Remove Host from Proxy",),
	"Add Wildcard Hosts to Proxy": ("Add Wildcard Hosts to Proxy", "Reload NGINX"),
	"Reload NGINX Job": ("Reload NGINX",),
	"Migrate Site": ("Migrate Site",),
	"Install App on Site": ("Install App on Site",),
	"Clear Cache": ("Clear Cache", "Clear Website Cache"),
	"Activate Site": ("Disable Maintenance Mode",),
	"Deactivate Site": ("Enable Maintenance Mode", "Wait for Enqueued Jobs"),
	"Create User": ("Create User",),
	"Backup Site": ("Backup Site", "Upload Site Backup to S3"),
	"Uninstall App from Site": ("Backup Site", "Upload Site Backup to S3", "Uninstall App from Site"),
	"Reinstall Site": ("Reinstall Site",),
	"Restore Site": (
		"Download Backup Files", "Restore Site", "Restore Files", "Checksum of Downloaded Backup Files",
		"Delete Downloaded Backup Files", "Uninstall Unavailable Apps", "Migrate Site", "Set Administrator Password",
		"Enable Scheduler", "Bench Setup NGINX", "Reload NGINX",
	),
	"New Site from Backup": (
		"Download Backup Files", "New Site", "Update Site Configuration", "Restore Site", "Delete Downloaded Backup Files",
		"Uninstall Unavailable Apps", "Migrate Site", "Set Administrator Password", "Enable Scheduler",
		"Bench Setup NGINX", "Reload NGINX",
	),
	"Run Remote Builder": ("Clone Repositories", "Run Validations", "Build Image", "Push Docker Image", "Cleanup Context"),
	"Cleanup Unused Files": ("Remove Archived Benches", "Remove Temporary Files", "Remove Unused Docker Artefacts"),
	"Add User to Proxy": ("Add User to Proxy", "Add Certificate to User", "Add Principal to User"),
	"Remove User from Proxy": ("Remove User from Proxy", "Remove Principal from User"),
}

# Said in every "Reload NGINX" step: there is nothing to reload.
TRAEFIK_RELOADS = "Traefik watches its configuration directory and reloads by itself; the route was read back from its API"

BENCH_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
APP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def check_bench(name: object) -> str:
	if not isinstance(name, str) or not BENCH_NAME.match(name):
		raise ValidationError(f"a bench name is 1-48 lower-case letters, digits and hyphens, got {name!r}")
	return name


def check_app(name: object) -> str:
	if not isinstance(name, str) or not APP_NAME.match(name):
		raise ValidationError(f"an app name is a Python identifier in lower case, got {name!r}")
	return name


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
		if not OWNER.match(self.owner):
			raise ValidationError(f"a platform's owner id is 1-12 lower-case letters and digits, got {self.owner!r}")
