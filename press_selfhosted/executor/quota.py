"""A site's storage quota (its Tenant Storage), enforced before a backup, a restore or a new
site makes anything."""

from __future__ import annotations

from press_selfhosted.exceptions import QuotaExceeded
from press_selfhosted.executor.platform import Platform

GB = 1_000_000_000


def check(platform: Platform, site: str, adding: int) -> None:
	"""Refuses (QuotaExceeded, saying the quota and the usage) a backup or a site whose
	tenant space is full, or would be with `adding` bytes more."""
	quota = platform.quota(site)
	if not quota:
		return
	store, prefix, limit = quota
	used = store.check_quota(prefix, limit, adding)  # raises, with both figures, past the quota
	if used >= limit:
		raise QuotaExceeded(f"{site} has used its storage quota: {_size(used)} of its {_size(limit)} under {prefix};"
			" nothing was made. Raise the quota on its Tenant Storage or delete old backups")


def _size(count: int) -> str:
	return f"{count / GB:.2f} GB" if count >= GB // 10 else f"{count} bytes"
