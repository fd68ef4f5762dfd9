"""Route53 → PowerDNS.

Press writes DNS through boto3 in `press/utils/dns.py` (`create_dns_record`,
`_change_dns_record`) and `BaseServer.create_dns_record` (press/press/doctype/server/server.py),
all of which return early for a Root Domain whose `dns_provider` is "Generic". Root Domains
are kept on Generic here, and the same records are written to PowerDNS by doc_events on the
events where Press would call Route53: server insert (A), site insert / rename / archive and
Site Domain (CNAME to the site's proxy, or to its server when standalone). Each change is read
back from the authoritative server (`dns_server` in Selfhosted Settings).

Press's DNS checks ask public resolvers (`NAMESERVERS` in press/utils/dns.py, used through
`Resolver`); `PlatformResolver` sends a question about a name of the platform's zones to the
platform's authoritative server instead, and one about another name (a customer's own domain,
on their DNS) to the resolver Selfhosted Settings name for those (`dns_resolver`), or, with
none, to Press's own choice.
"""

from __future__ import annotations

import ipaddress

import frappe

from press_selfhosted.integrations import active, services
from press_selfhosted.reach import nameserver_for

SERVER_DOCTYPES = ("Server", "Proxy Server", "Database Server")


def keep_generic(doc, method=None):
	"""Root Domain before_validate: Press must never reach Route53 for it."""
	doc.dns_provider = "Generic"


def create_zone(doc, method=None):
	"""Root Domain after_insert: its zone on PowerDNS, served by ns1.<zone>."""
	s = services()
	nameserver = f"ns1.{doc.name}"
	s.powerdns.ensure_zone(doc.name, nameservers=[nameserver])
	address = s.settings.get("public_address")
	if address and _is_address(address):
		s.dns.point(nameserver, address)


def server_changed(doc, method=None):
	"""Server / Proxy / Database / Monitor Server on_update (inserts included): name → its address,
	as BaseServer.create_dns_record would (`ip`, else `private_ip`)."""
	address = doc.ip or doc.private_ip
	if not address or not (doc.has_value_changed("ip") or doc.has_value_changed("private_ip")):
		return
	dns = services().dns
	if dns.zone_for(doc.name):
		dns.point(doc.name, address)


def server_removed(doc, method=None):
	_remove(doc.name)


def site_created(doc, method=None):
	_point_site_name(doc, doc.name)


def site_changed(doc, method=None):
	"""Site on_update: an archived site's name stops resolving, as Press's `remove_dns_record`."""
	if doc.status == "Archived" and doc.has_value_changed("status"):
		_remove(doc.name)


def site_renamed(doc, method=None, old=None, new=None, merge=False):
	_remove(old)
	_point_site_name(doc, new)


def site_removed(doc, method=None):
	_remove(doc.name)


def domain_added(doc, method=None):
	"""Site Domain after_insert: a domain in one of the platform's zones points like its site.
	Custom domains live on their owners' DNS; Press's checks verify those."""
	if doc.domain != doc.site:
		_point_site_name(frappe.get_doc("Site", doc.site), doc.domain)


def domain_removed(doc, method=None):
	if doc.domain != doc.site:
		_remove(doc.domain)


def site_target(site) -> str:
	"""Where Press points a site's names (press/utils/dns.py create_dns_record): its server when
	standalone, else the server's proxy."""
	proxy, standalone = frappe.db.get_value("Server", site.server, ["proxy_server", "is_standalone"])
	return site.server if standalone or not proxy else proxy


def _point_site_name(site, name: str) -> None:
	dns = services().dns
	if dns.zone_for(name):
		dns.point(name, site_target(site))


def _remove(name: str) -> None:
	"""Removal never blocks Press (archiving, deleting); a failure is logged for the operator."""
	try:
		services().dns.remove(name)
	except Exception:
		frappe.log_error(f"PowerDNS: could not remove {name}")


def _is_address(value: str) -> bool:
	try:
		ipaddress.ip_address(value)
		return True
	except ValueError:
		return False


def platform_resolver(original: type) -> type:
	class PlatformResolver(original):
		"""dnspython's Resolver that, for each question, asks the server `nameserver_for` picks
		in place of the public resolvers Press set; dnspython 1.x and 2.x both read `port` for
		plain IPs."""

		def __setattr__(self, name, value):
			if name == "nameservers":
				super().__setattr__("_press_nameservers", (list(value or []), getattr(self, "port", 53)))
			super().__setattr__(name, value)

		def _aim(self, qname) -> None:
			if not active():
				return
			authoritative, outside = (frappe.db.get_single_value("Selfhosted Settings", field)
				for field in ("dns_server", "dns_resolver"))
			server = nameserver_for(qname, frappe.get_all("Root Domain", pluck="name"), authoritative, outside)
			nameservers, port = (([server[0]], server[1]) if server else
				getattr(self, "_press_nameservers", (self.nameservers, self.port)))
			super().__setattr__("port", port)
			super().__setattr__("nameservers", nameservers)  # not recorded as Press's own choice

		def query(self, qname, *args, **kwargs):
			self._aim(qname)
			return super().query(qname, *args, **kwargs)

		def resolve(self, qname, *args, **kwargs):
			self._aim(qname)
			return super().resolve(qname, *args, **kwargs)

	return PlatformResolver


PATCHES = [("press.utils.dns", "Resolver", platform_resolver)]
