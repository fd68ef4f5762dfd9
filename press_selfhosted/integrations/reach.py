"""Press reaches `https://<site>` on the self-hosted platform (Login as Administrator,
Site.ping, usage sync): this process resolves the names of the platform's zones through
PowerDNS and trusts the platform CA's root (press_selfhosted/reach.py). Installed with the
other patches, from Selfhosted Settings and the Root Domains; nothing of the host is edited."""

from __future__ import annotations

import os

import frappe

from press_selfhosted import reach

BUNDLE = "press-trust.pem"
_installed_for: tuple | None = None


def install() -> None:
	"""Idempotent: redone only when the settings it reads change."""
	global _installed_for
	from press_selfhosted.integrations import services

	settings = services().settings
	zones = tuple(sorted({*frappe.get_all("Root Domain", pluck="name"), settings.get("root_domain") or ""} - {""}))
	ca = settings.get("ca_directory")
	root = os.path.join(ca, "root.crt") if ca else None
	# The root's presence is part of the key: settings saved before `selfhosted setup` made
	# the CA would otherwise leave Press distrusting every site until they changed again.
	key = (zones, settings.get("dns_server"), settings.get("dns_resolver"), settings.get("site_https_address"),
		settings.get("site_http_address"), ca, bool(root and os.path.exists(root)))
	if key == _installed_for:
		return
	if zones and settings.get("dns_server"):
		from press_selfhosted.dns import DnsChecker

		outside = settings.get("dns_resolver")
		reach.install(reach.SiteReach(list(zones), DnsChecker([reach.server_address(settings["dns_server"])]),
			https_address=settings.get("site_https_address") or None, http_address=settings.get("site_http_address") or None,
			outside=cname_targets(outside) if outside else None))
	if key[-1]:
		with open(root) as f:
			os.environ["REQUESTS_CA_BUNDLE"] = reach.trust_bundle(f.read(), os.path.join(ca, BUNDLE))
	_installed_for = key


def cname_targets(resolver: str):
	"""A name's CNAME targets, asked of a recursive resolver (`dns_resolver`: a customer's own
	domain lives on their DNS, not on PowerDNS), through dnspython as Press's checks ask."""
	import dns.exception
	import dns.resolver

	host, port = reach.split_address(reach.server_address(resolver))
	client = dns.resolver.Resolver(configure=False)
	client.nameservers, client.port, client.lifetime = [host], port, 3.0
	ask = getattr(client, "resolve", None) or client.query  # dnspython 2 / 1

	def targets(name: str) -> list[str]:
		try:
			return [r.to_text() for r in ask(name, "CNAME")]
		except dns.exception.DNSException:
			return []

	return targets


def check() -> str:
	"""The doctor's check: Press's own client reaches an Active site of the platform over
	HTTPS, the certificate verified, as Login as Administrator does."""
	import requests

	from press_selfhosted.doctor import CheckFailed

	install()
	if not reach.installed():
		raise CheckFailed("not configured: set root_domain and dns_server in Selfhosted Settings")
	site = frappe.db.get_value("Site", {"status": "Active"}, "name", order_by="creation desc")
	if not site:
		return "no Active site yet to reach"
	try:
		answer = requests.get(f"https://{site}/api/method/ping", timeout=10)
	except requests.RequestException as e:
		raise CheckFailed(f"Press cannot reach https://{site}: {e}") from None
	if answer.status_code != 200:
		raise CheckFailed(f"https://{site}/api/method/ping answered {answer.status_code}")
	return f"https://{site} answers Press, certificate verified"
