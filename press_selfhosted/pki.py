"""The platform's certificate authority, for `bench console` and the Press integration.

	from press_selfhosted.pki import CertificateAuthority, inspect_certificate
	ca = CertificateAuthority.create("/home/frappe/ca", passphrase="…")
	cert = ca.issue(["*.example.com", "example.com"])
"""

from press_selfhosted._native import (
	DEFAULT_RENEWAL_DAYS,
	CertificateAuthority,
	CertificateInfo,
	IssuedCertificate,
	decrypt_private_key,
	inspect_certificate,
	self_signed_certificate,
)

__all__ = [
	"DEFAULT_RENEWAL_DAYS",
	"CertificateAuthority",
	"CertificateInfo",
	"IssuedCertificate",
	"decrypt_private_key",
	"inspect_certificate",
	"self_signed_certificate",
]
