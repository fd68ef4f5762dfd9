"""The platform's certificate authority, for `bench console` and the Press integration.

	from press_selfhosted.pki import CertificateAuthority, inspect_certificate
	ca = CertificateAuthority.create("/home/frappe/ca", passphrase="…")
	cert = ca.issue(["*.example.com", "example.com"])

	# What Press's TLS Certificate stores, with the self-signed fallback when the CA fails:
	obtained = obtain_certificate(lambda: CertificateAuthority.load("/home/frappe/ca"), "example.com", wildcard=True)
"""

from collections.abc import Callable
from typing import NamedTuple

from press_selfhosted._native import (
	DEFAULT_RENEWAL_DAYS,
	CertificateAuthority,
	CertificateInfo,
	IssuedCertificate,
	decrypt_private_key,
	inspect_certificate,
	self_signed_certificate,
)
from press_selfhosted.exceptions import ValidationError

__all__ = [
	"DEFAULT_RENEWAL_DAYS",
	"Obtained",
	"CertificateAuthority",
	"CertificateInfo",
	"IssuedCertificate",
	"decrypt_private_key",
	"inspect_certificate",
	"obtain_certificate",
	"self_signed_certificate",
]


class Obtained(NamedTuple):
	"""A certificate as Press's TLS Certificate holds it (press/press/doctype/tls_certificate/
	tls_certificate.py `BaseCA._extract` order), and why the CA was not used, if it was not."""

	certificate: str
	full_chain: str
	intermediate_chain: str
	private_key: str
	fallback_reason: str | None = None


def obtain_certificate(
	load_ca: Callable[[], CertificateAuthority], domain: str, *, wildcard: bool = False, validity_days: int = 90
) -> Obtained:
	"""Issues for `domain` (and `*.domain` beside it when wildcard) from the CA `load_ca` returns.
	If loading or issuing fails, the site still gets TLS: a self-signed certificate for the
	same names, with the reason, so the caller can alert the operator. Names are validated
	first: a bad name raises ValidationError and nothing is issued."""
	names = [f"*.{domain}", domain] if wildcard else [domain]
	try:
		issued, reason = load_ca().issue(names, validity_days=validity_days), None
	except ValidationError:
		raise  # bad names: nothing to fall back to
	except Exception as e:  # any CA failure falls back; the reason is reported, never swallowed
		issued = self_signed_certificate(names, validity_days=validity_days)
		reason = f"{e.__class__.__name__}: {e}"
	return Obtained(issued.certificate_pem, issued.full_chain_pem, issued.chain_pem, issued.private_key_pem(), reason)
