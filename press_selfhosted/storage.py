"""S3-compatible object storage for backups and tenant files, for `bench console` and the
Press integration.

	from press_selfhosted.storage import Store, TenantPrefix
	store = Store("http://127.0.0.1:3900", "backups", access_key="GK…", secret_key="…", region="garage")
	tenant = TenantPrefix("tenants/acme")
	store.upload_file("/home/frappe/backups/db.sql.gz", tenant.key("2026-11-25/db.sql.gz"),
		progress=lambda done, total: print(done, total), quota=(tenant.prefix, 10 << 30))
"""

from press_selfhosted._native import CancelToken, Store, TenantPrefix, expired_backups

__all__ = ["CancelToken", "Store", "TenantPrefix", "expired_backups"]
