"""Typed surface of press_selfhosted's Rust core (rust/binding).

Every call releases the GIL while the core works. Errors are raised as the classes of
press_selfhosted.exceptions: ValidationError for refused input (nothing is created),
CertificateError for everything else the CA refuses, InternalError for a bug in the core.
"""

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

KeyType = Literal["ecdsa-p256", "ecdsa-p384", "ed25519"]
FileRole = Literal["certificate", "chain", "full_chain", "private_key"]

DEFAULT_RENEWAL_DAYS: int
"""Days before expiry at which Press renews a certificate (25)."""

class CertificateAuthority:
	"""A root CA and the intermediate that signs leaves, kept in one directory (0700):
	root.crt, root.key, intermediate.crt, intermediate.key (keys 0600, PKCS#8, encrypted
	when a passphrase is given). Issuing needs only the intermediate: root.key may be moved
	offline after `create`."""

	@staticmethod
	def create(
		directory: str | os.PathLike[str],
		*,
		name: str | None = None,
		key_type: KeyType = "ecdsa-p256",
		passphrase: str | None = None,
		root_validity_days: int | None = None,
		intermediate_validity_days: int | None = None,
	) -> CertificateAuthority:
		"""Makes a new CA in `directory` (created if missing; refused if it holds a CA).
		Defaults: name "Press Self-Hosted", root 3650 days, intermediate 1825 days."""

	@staticmethod
	def load(directory: str | os.PathLike[str], *, passphrase: str | None = None) -> CertificateAuthority:
		"""Loads the CA in `directory` for issuing; the root key is not read."""

	def issue(
		self,
		names: Sequence[str],
		*,
		key_type: KeyType = "ecdsa-p256",
		validity_days: int = 90,
		not_before: datetime | None = None,
		server: bool = True,
		client: bool = False,
	) -> IssuedCertificate:
		"""Issues a leaf for DNS names (wildcard as the left-most label) and IP addresses.
		`validity_days` is 1 to 397; `not_before` (timezone-aware) defaults to now.
		`server`/`client` choose the extended key usages (TLS server, TLS client auth)."""

	@property
	def directory(self) -> Path: ...
	@property
	def root_pem(self) -> str:
		"""The trust anchor to install in clients."""

	@property
	def intermediate_pem(self) -> str: ...

class IssuedCertificate:
	"""A certificate and its private key. The key is only handed out by `private_key_pem`
	and `write_files`; it never appears in the repr."""

	@property
	def certificate_pem(self) -> str: ...
	@property
	def chain_pem(self) -> str:
		"""The intermediate(s) above the certificate; empty when self-signed."""

	@property
	def full_chain_pem(self) -> str:
		"""Certificate followed by its chain: what a TLS server presents."""

	@property
	def key_type(self) -> KeyType: ...
	def private_key_pem(self, passphrase: str | None = None) -> str:
		"""PKCS#8 PEM, encrypted (PBKDF2-SHA256, AES-256-CBC) when a passphrase is given."""

	def write_files(
		self, directory: str | os.PathLike[str], stem: str, *, passphrase: str | None = None
	) -> dict[FileRole, Path]:
		"""Writes <stem>.crt, <stem>.chain.crt, <stem>.fullchain.crt (0644) and <stem>.key
		(0600) atomically into `directory`; returns their paths by role."""

	def info(self) -> CertificateInfo: ...

class CertificateInfo:
	"""What a certificate says about itself."""

	@property
	def subject(self) -> str: ...
	@property
	def issuer(self) -> str: ...
	@property
	def serial(self) -> str:
		"""Lower-case hex."""

	@property
	def names(self) -> list[str]:
		"""DNS names and IP addresses of the subject alternative names."""

	@property
	def not_before(self) -> datetime:
		"""Timezone-aware (UTC)."""

	@property
	def not_after(self) -> datetime:
		"""Timezone-aware (UTC)."""

	@property
	def is_ca(self) -> bool: ...
	@property
	def fingerprint_sha256(self) -> str: ...
	@property
	def days_left(self) -> int:
		"""Whole days until expiry, now; negative once expired."""

	def needs_renewal(self, threshold_days: int = 25) -> bool:
		"""True when the certificate expires within `threshold_days` (or already has)."""

def inspect_certificate(pem: str) -> CertificateInfo:
	"""Reads the first certificate of a PEM text (a full chain reads as its leaf)."""

def self_signed_certificate(
	names: Sequence[str],
	*,
	key_type: KeyType = "ecdsa-p256",
	validity_days: int = 90,
	not_before: datetime | None = None,
) -> IssuedCertificate:
	"""A self-signed server certificate: the fallback when no CA is configured."""

def decrypt_private_key(pem: str, passphrase: str) -> str:
	"""The unencrypted PKCS#8 PEM of an encrypted key, for servers that cannot read
	encrypted keys."""
