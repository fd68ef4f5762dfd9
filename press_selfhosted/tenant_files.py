"""Tenant sites keep the files their users upload on the platform's S3-compatible store,
through the dfp_external_storage app: one `DFP External Storage` document on the tenant site
sends every file of its "Home" folder to `<bucket>/<site>/…`. That app names keys
`<site>/<file>-<id>.<ext>` itself, so the tenant's prefix is its site name, the same prefix
Press writes the site's offsite backups under (`press/agent.py` `backup_site`).

	storage = DfpStorage.for_site("acme.cloud.example.com", "http://10.0.0.5:3900", "tenants",
		region="garage", access_key="GK…", secret_key="…")
	configure(FrappeClient("https://acme.cloud.example.com", "Administrator", "…"), storage)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from press_selfhosted.exceptions import ValidationError
from press_selfhosted.storage import TenantPrefix

APP = "dfp_external_storage"
DOCTYPE = "DFP External Storage"
# The document press_selfhosted owns on a tenant site; others the tenant adds are left alone.
TITLE = "Platform storage"


def tenant_bucket(site: str) -> str:
	"""The bucket of a tenant that has one of its own (stores such as Garage grant a key a
	whole bucket, not a prefix): its site name as an S3 bucket name, with a hash of the
	name so that `a-b.com` and `a.b-com` stay apart."""
	slug = re.sub(r"[^a-z0-9]+", "-", site.lower()).strip("-")[:54].rstrip("-")
	if not slug:
		raise ValidationError(f"no bucket name can be made of {site!r}")
	return f"{slug}-{hashlib.sha256(site.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class DfpStorage:
	"""The fields of the tenant's `DFP External Storage` document."""

	site: str
	endpoint: str  # host:port, the form the minio client dfp uses takes
	secure: bool
	bucket: str
	region: str
	access_key: str
	secret_key: str = field(repr=False)

	@classmethod
	def for_site(cls, site: str, endpoint: str, bucket: str, *, region: str, access_key: str, secret_key: str) -> DfpStorage:
		url = urlsplit(endpoint)
		if url.scheme not in ("http", "https") or not url.hostname or url.path.strip("/") or url.query or url.username:
			raise ValidationError(f"the S3 endpoint must be http(s)://host[:port], got {endpoint!r}")
		if not site or "/" in site:
			raise ValidationError(f"a site is one name, got {site!r}")
		if not access_key or not secret_key:
			raise ValidationError(f"{site} has no key of its own on the store: a tenant site never gets the platform's keys")
		host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
		port = url.port or (443 if url.scheme == "https" else 80)
		return cls(TenantPrefix(site).prefix.rstrip("/"), f"{host}:{port}", url.scheme == "https", bucket, region or "us-east-1", access_key, secret_key)

	@property
	def prefix(self) -> str:
		return f"{self.site}/"

	def document(self) -> dict:
		return {
			"doctype": DOCTYPE, "title": TITLE, "type": "S3 Compatible", "enabled": 1,
			"endpoint": self.endpoint, "secure": int(self.secure), "bucket_name": self.bucket, "region": self.region,
			"access_key": self.access_key, "secret_key": self.secret_key,
			"folders": [{"folder": "Home"}],  # every file of the site
		}


class SiteApi(Protocol):
	"""What `frappe.frappeclient.FrappeClient` offers, logged in as the site's Administrator."""

	def get_list(self, doctype: str, fields: list | str = ..., filters: dict | None = ..., limit_start: int = ..., limit_page_length: int = ...) -> list[dict]: ...

	def insert(self, doc: dict) -> dict: ...

	def update(self, doc: dict) -> dict: ...


def configure(api: SiteApi, storage: DfpStorage) -> str:
	"""Creates, updates or replaces the platform's document on the tenant site; says which."""
	existing = api.get_list(DOCTYPE, fields=["name", "access_key"], filters={"title": TITLE}, limit_page_length=1)
	if existing:
		name = existing[0]["name"]
		if existing[0]["access_key"] != storage.access_key:
			# dfp checks a changed connection with the secret it has stored (Frappe stores a new
			# one only after validate), so a new key gets a new document. The old one keeps
			# serving the files written through it, and no longer takes new ones.
			api.update({"doctype": DOCTYPE, "name": name, "title": f"{TITLE} (replaced)", "enabled": 0, "folders": []})
			api.insert(storage.document())
			return "replaced"
		api.update({**storage.document(), "name": name})
		return "updated"
	api.insert(storage.document())
	return "created"
