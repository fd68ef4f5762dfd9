"""The platform's services, built from `Selfhosted Settings` as plain data (passwords
decrypted), so the Press integration and the tests build them the same way.

	services = Services(settings_dict())
	services.dns.point("acme.cloud.example.com", "n1.cloud.example.com")
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from press_selfhosted.dns import DnsChecker, PlatformDns, PowerDns
from press_selfhosted.exceptions import ValidationError
from press_selfhosted.monitor import Monitor
from press_selfhosted.pki import CertificateAuthority
from press_selfhosted.proxy import Proxy
from press_selfhosted.reach import server_address
from press_selfhosted.storage import GarageAdmin, Store


class NotConfigured(ValidationError):
	"""A service is used before Selfhosted Settings says where it is."""


class Services:
	def __init__(self, settings: dict):
		self.settings = settings

	def need(self, *fields: str) -> None:
		missing = [f for f in fields if not self.settings.get(f)]
		if missing:
			raise NotConfigured(f"not configured: set {', '.join(missing)} in Selfhosted Settings")

	@cached_property
	def powerdns(self) -> PowerDns:
		self.need("pdns_api_url", "pdns_api_key")
		s = self.settings
		return PowerDns(s["pdns_api_url"], api_key=s["pdns_api_key"], server_id=s.get("pdns_server_id") or "localhost")

	@cached_property
	def checker(self) -> DnsChecker | None:
		"""The authoritative server, asked directly; without one, changes are not read back."""
		return DnsChecker([server_address(self.settings["dns_server"])]) if self.settings.get("dns_server") else None

	@cached_property
	def dns(self) -> PlatformDns:
		return PlatformDns(self.powerdns, self.checker)

	@cached_property
	def store(self) -> Store:
		self.need("s3_bucket")
		return self.store_for(self.settings["s3_bucket"])

	def store_for(self, bucket: str, keys: tuple[str, str] | None = None) -> Store:
		"""Another bucket on the same endpoint (Press names buckets per use), with the platform's
		keys or the `(access_key, secret_key)` of a tenant."""
		self.need("s3_endpoint", *(() if keys else ("s3_access_key", "s3_secret_key")))
		s = self.settings
		access_key, secret_key = keys or (s["s3_access_key"], s["s3_secret_key"])
		return Store(s["s3_endpoint"], bucket, region=s.get("s3_region") or "us-east-1",
			access_key=access_key, secret_key=secret_key, ca_bundle=s.get("s3_ca_bundle") or None)

	@cached_property
	def garage(self) -> GarageAdmin | None:
		"""Garage's admin API, when tenants are to get buckets and keys of their own."""
		if not self.settings.get("s3_admin_url"):
			return None
		self.need("s3_admin_token")
		return GarageAdmin(self.settings["s3_admin_url"], self.settings["s3_admin_token"],
			ca_bundle=self.settings.get("s3_ca_bundle") or None)

	@cached_property
	def ca(self) -> CertificateAuthority:
		self.need("ca_directory")
		return CertificateAuthority.load(self.settings["ca_directory"], passphrase=self.settings.get("ca_passphrase") or None)

	@cached_property
	def proxy(self) -> Proxy:
		self.need("traefik_config_dir", "traefik_api_url")
		s = self.settings
		return Proxy(s["traefik_config_dir"], s["traefik_api_url"], entry_point=s.get("https_entry_point") or "websecure",
			http_entry_point=s.get("http_entry_point") or "web")

	@cached_property
	def monitor(self) -> Monitor:
		"""The monitor server's files and servers; Alertmanager is given the platform CA's root,
		which Press's webhook is served with."""
		self.need("monitor_directory", "prometheus_url", "alertmanager_url")
		s = self.settings
		root = Path(s["ca_directory"]) / "root.crt" if s.get("ca_directory") else None
		return Monitor(Path(s["monitor_directory"]), s["prometheus_url"], s["alertmanager_url"],
			ca_pem=root.read_text() if root and root.exists() else None)
