"""certbot and Let's Encrypt → the platform CA.

Press obtains every certificate through `LetsEncrypt(settings).obtain(...)` in
`TLSCertificate._obtain_certificate` (press/press/doctype/tls_certificate/tls_certificate.py),
for new certificates and for the hourly `renew_tls_certificates` (provider "Let's Encrypt",
expiring within 25 days), which builds `TLSCertificate(...)` itself and so bypasses
`override_doctype_class`. Replacing the module attribute `LetsEncrypt` covers both: TLS
Certificate docs fill in as usual, issued by the platform CA. When the CA cannot issue, the
certificate is self-signed for the same names and the operator is alerted.

Press installs a new wildcard on its servers with Ansible over SSH
(`TLSCertificate.trigger_server_tls_setup_callback`); here TLS ends at Traefik, so the platform
root domain's wildcard becomes Traefik's default certificate instead (Traefik has one default;
sites under other Root Domains carry their own certificates in their routes). Root Domains on "Generic" get no wildcard from
Press (`RootDomain.after_insert`), so `request_wildcard` asks for one as Press would.
"""

from __future__ import annotations

import frappe
from frappe.utils import add_days, now_datetime

from press_selfhosted.integrations import active, services
from press_selfhosted.pki import obtain_certificate

TLS_MODULE = "press.press.doctype.tls_certificate.tls_certificate"
# Alert this many days before a certificate expires (Press renews at 25).
ALERT_DAYS = 30


def platform_ca(original: type) -> type:
	from press.press.doctype.tls_certificate.tls_certificate import BaseCA

	class PlatformCA(BaseCA):
		"""BaseCA backed by the platform CA. Keys are ECDSA P-256 whatever `rsa_key_size` says:
		the CA issues no RSA keys, and every current TLS client accepts ECDSA."""

		def __new__(cls, settings):
			if not active():
				return original(settings)
			return super().__new__(cls)

		def _obtain(self):
			domain = self.domain.removeprefix("*.")
			self.obtained = obtain_certificate(lambda: services().ca, domain, wildcard=self.wildcard)
			if self.obtained.fallback_reason:
				alert(f"Self-signed certificate for {self.domain}",
					f"The platform CA could not issue it ({self.obtained.fallback_reason}); browsers will warn until it is renewed.")

		def _extract(self):
			return tuple(self.obtained[:4])

	return PlatformCA


def wildcard_to_traefik(original):
	def trigger_server_tls_setup_callback(self):
		if not active():
			return original(self)
		s = services()
		if self.status != "Active" or self.domain != s.settings.get("root_domain"):
			return
		write_platform_routes(self, s.settings)

	return trigger_server_tls_setup_callback


def write_platform_routes(wildcard, settings) -> None:
	"""Traefik's platform file: the root domain's wildcard (a TLS Certificate), the settings'
	maintenance and default pages."""
	services().proxy.write_platform(wildcard=(wildcard.full_chain, wildcard.get_password("private_key")),
		maintenance_url=settings.get("maintenance_url") or None, default_url=settings.get("default_url") or None)


def pages_changed(settings) -> None:
	"""Selfhosted Settings saved with another maintenance or default page: the platform file
	follows at once (else only the wildcard's next renewal would write it)."""
	wildcard = frappe.db.get_value("TLS Certificate", {"wildcard": 1, "domain": settings.get("root_domain"),
		"status": "Active"}, "name", order_by="creation desc")
	if wildcard:
		write_platform_routes(frappe.get_doc("TLS Certificate", wildcard), settings)


def request_wildcard(doc, method=None):
	"""Root Domain after_insert: its wildcard certificate, as Press's
	`RootDomain.obtain_root_domain_tls_certificate` would for Route53 domains."""
	if frappe.db.exists("TLS Certificate", {"wildcard": 1, "domain": doc.name}):
		return
	frappe.get_doc({"doctype": "TLS Certificate", "wildcard": 1, "domain": doc.name, "provider": "Let's Encrypt",
		"rsa_key_size": frappe.db.get_single_value("Press Settings", "rsa_key_size") or "2048"}).insert(ignore_permissions=True)


def alert_expiring_certificates():
	"""Daily: one alert listing the certificates that expire within ALERT_DAYS."""
	expiring = frappe.get_all("TLS Certificate", filters={"status": "Active", "expires_on": ("<", add_days(now_datetime(), ALERT_DAYS))},
		fields=["name", "expires_on"], order_by="expires_on asc")
	if expiring:
		lines = "\n".join(f"{c.name}: expires {c.expires_on}" for c in expiring)
		alert(f"{len(expiring)} TLS certificates expire within {ALERT_DAYS} days", lines)
	return expiring


def alert(subject: str, message: str) -> None:
	"""An Error Log and a desk notification for every System Manager."""
	frappe.log_error(title=subject, message=message)
	for user in _system_managers():
		frappe.get_doc({"doctype": "Notification Log", "for_user": user, "type": "Alert", "subject": subject,
			"email_content": message, "document_type": "TLS Certificate"}).insert(ignore_permissions=True)


def _system_managers() -> list[str]:
	users = frappe.get_all("Has Role", filters={"role": "System Manager", "parenttype": "User"}, pluck="parent")
	return [u for u in set(users) if u not in ("Administrator", "Guest") and frappe.db.get_value("User", u, "enabled")] or ["Administrator"]


PATCHES = [
	(TLS_MODULE, "LetsEncrypt", platform_ca),
	(TLS_MODULE, "TLSCertificate.trigger_server_tls_setup_callback", wildcard_to_traefik),
]
