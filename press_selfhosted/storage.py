"""S3-compatible object storage for backups and tenant files, for `bench console` and the
Press integration.

	from press_selfhosted.storage import Store, TenantPrefix, tenant_space
	store = Store("http://127.0.0.1:3900", "backups", access_key="GK…", secret_key="…", region="garage")
	tenant = TenantPrefix("tenants/acme")
	store.upload_file("/home/frappe/backups/db.sql.gz", tenant.key("2026-11-25/db.sql.gz"),
		progress=lambda done, total: print(done, total), quota=(tenant.prefix, 10 << 30))

	# The same, with the isolation an operator chose (a shared bucket, or one per tenant):
	space = tenant_space("http://127.0.0.1:3900", "backups", "acme", isolation="bucket", access_key=…, …)
	space.store.ensure_bucket()
	space.store.put_bytes(space.prefix.key("notes.txt"), b"…")
"""

from typing import Literal, NamedTuple

from press_selfhosted._native import CancelToken, Store, TenantPrefix, expired_backups
from press_selfhosted.exceptions import ValidationError

__all__ = ["CancelToken", "Isolation", "Store", "TenantPrefix", "TenantSpace", "expired_backups", "tenant_space"]

Isolation = Literal["prefix", "bucket"]
TENANTS = "tenants"


class TenantSpace(NamedTuple):
	"""Where one tenant's objects live: a bucket, and the prefix its keys are confined to."""

	store: Store
	prefix: TenantPrefix


def tenant_space(endpoint: str, bucket: str, tenant: str, *, isolation: Isolation = "prefix", **connection) -> TenantSpace:
	"""A tenant's space on the store. "prefix": every tenant shares `bucket`, each under
	`tenants/<tenant>/`. "bucket": each tenant has its own bucket, `<bucket>-<tenant>`; its keys
	keep the same prefix, so a tenant moves from one scheme to the other without renaming.
	`connection` is what `Store` takes besides endpoint and bucket (keys, region, ca_bundle…)."""
	if isolation not in ("prefix", "bucket"):
		raise ValidationError(f"isolation must be 'prefix' or 'bucket', got {isolation!r}")
	if not tenant or "/" in tenant:
		raise ValidationError(f"a tenant is one name, got {tenant!r}")
	prefix = TenantPrefix(f"{TENANTS}/{tenant}")
	name = bucket if isolation == "prefix" else f"{bucket}-{tenant}"
	return TenantSpace(Store(endpoint, name, **connection), prefix)
