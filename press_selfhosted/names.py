"""Names the platform accepts, checked before anything is made from them."""

from __future__ import annotations

from press_selfhosted._native import domain_name
from press_selfhosted.exceptions import ValidationError


def check_site(name: object) -> str:
	"""A site's name: a host name (Press's `<subdomain>.<domain>` or a custom one), canonical."""
	if not isinstance(name, str):
		raise ValidationError(f"a site name is a host name, got {name!r}")
	return domain_name(name)
