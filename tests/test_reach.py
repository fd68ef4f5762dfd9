"""Press's own HTTP client reaches a platform site (press_selfhosted/reach.py): the name
resolves through the real PowerDNS in this process only, the connection goes to the real
Traefik's HTTPS port, and the platform CA is trusted beside the public roots."""

import http.server
import socket
import threading

import pytest
import requests
from conftest import service_env

from press_selfhosted import reach
from press_selfhosted.dns import DnsChecker, PowerDns
from press_selfhosted.exceptions import ValidationError
from press_selfhosted.proxy import Proxy


class Pong(http.server.BaseHTTPRequestHandler):
	def do_GET(self):
		body = b'{"message":"pong"}'
		self.send_response(200)
		self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		self.wfile.write(body)

	def log_message(self, *args):
		pass


@pytest.fixture
def site(ca):
	"""A site on the platform: its A record on PowerDNS, its route and certificate on Traefik,
	a web server behind it."""
	zone = f"reach-{id(ca) % 100000}.test"
	name = f"acme.{zone}"
	with open(service_env("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")) as f:
		pdns = PowerDns(service_env("PRESS_SELFHOSTED_TEST_PDNS_API"), api_key=f.read().strip())
	pdns.ensure_zone(zone, nameservers=[f"ns1.{zone}"])
	pdns.upsert(zone, [(f"{name}.", "A", 60, ["127.0.0.1"])])
	server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pong)
	threading.Thread(target=server.serve_forever, daemon=True).start()
	proxy = Proxy(service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"), service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API"))
	issued = ca.issue([name])
	proxy.wait_loaded(proxy.write_site(name, [f"http://127.0.0.1:{server.server_address[1]}"],
		certificate=(issued.full_chain_pem, issued.private_key_pem())))
	yield zone, name
	reach.install(None)
	proxy.remove_site(name)
	server.shutdown()
	pdns.delete_zone(zone)


def test_press_reaches_a_platform_site_over_https_without_touching_the_host(site, ca, tmp_path, monkeypatch):
	zone, name = site
	https = service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS")
	monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
	reach.install(reach.SiteReach([zone], DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")]), https_address=https))
	# Resolved, but the platform CA is not trusted yet: the certificate is refused.
	with pytest.raises(requests.exceptions.SSLError):
		requests.get(f"https://{name}/api/method/ping", timeout=5)

	bundle = reach.trust_bundle(ca.root_pem, tmp_path / "press-trust.pem")
	monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
	answer = requests.get(f"https://{name}/api/method/ping", timeout=10)
	assert (answer.status_code, answer.json()) == (200, {"message": "pong"})
	# The public roots stay trusted beside the platform's, and other names resolve as before.
	import certifi

	text = open(bundle).read()
	assert open(certifi.where()).read().strip() in text and ca.root_pem.strip() in text
	assert socket.getaddrinfo("localhost", 80)[0][4][0] in ("127.0.0.1", "::1")
	# A platform name with no record is a resolution error, not a connection somewhere else.
	with pytest.raises(socket.gaierror):
		socket.getaddrinfo(f"missing.{zone}", 80)

	reach.install(None)
	assert reach.installed() is None and socket.getaddrinfo is reach._original


def test_a_cname_to_the_servers_name_is_followed(site):
	zone, name = site
	with open(service_env("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")) as f:
		pdns = PowerDns(service_env("PRESS_SELFHOSTED_TEST_PDNS_API"), api_key=f.read().strip())
	pdns.upsert(zone, [(f"alias.{zone}.", "CNAME", 60, [f"{name}."])])
	r = reach.SiteReach([zone], DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")]))
	assert r.route(f"alias.{zone}", 443) == ("127.0.0.1", 443)
	assert r.route("example.org", 443) is None


def test_a_bad_address_is_refused(site):
	with pytest.raises(ValidationError):
		reach.SiteReach(["x.test"], DnsChecker(["127.0.0.1:53"]), https_address="no-port")


def test_a_customers_own_domain_is_reached_through_its_cname_into_the_platform(site):
	"""Press's custom-domain check connects to the customer's domain (http://, then the site's
	certificate over https://): a name outside the platform whose CNAME, on the resolver for
	other names, leads to a platform site goes to Traefik like the site itself."""
	zone, name = site
	customer = f"customer-{zone}"
	with open(service_env("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")) as f:
		pdns = PowerDns(service_env("PRESS_SELFHOSTED_TEST_PDNS_API"), api_key=f.read().strip())
	# The customer's DNS, played by a zone of its own on PowerDNS (not one of the platform's).
	pdns.ensure_zone(customer, nameservers=[f"ns1.{customer}"])
	try:
		pdns.upsert(customer, [(f"www.{customer}.", "CNAME", 60, [f"{name}."]),
			(f"mail.{customer}.", "CNAME", 60, ["elsewhere.example."])])
		outside = DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")])
		https, http = service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS"), service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_HTTP")
		r = reach.SiteReach([zone], DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")]), https_address=https,
			http_address=http, outside=lambda host: outside.lookup(host, "CNAME"))
		assert r.route(f"www.{customer}", 443) == reach.split_address(https)
		assert r.route(f"www.{customer}", 80) == reach.split_address(http)
		assert r.route(f"www.{customer}", 8080) == ("127.0.0.1", 8080)  # the site's own address
		assert r.route(f"mail.{customer}", 443) is None  # a CNAME elsewhere: the system's
		assert r.route(f"none.{customer}", 443) is None
		# Without a resolver for other names, or with one that fails, nothing outside is routed.
		assert reach.SiteReach([zone], outside).route(f"www.{customer}", 443) is None

		def down(host):
			raise OSError("resolver down")

		assert reach.SiteReach([zone], outside, outside=down).route(f"www.{customer}", 443) is None
	finally:
		pdns.delete_zone(customer)


@pytest.mark.parametrize(("name", "expected"), [
	("acme.cloud.test", ("10.0.0.53", 5300)), ("CLOUD.TEST.", ("10.0.0.53", 5300)),
	("www.shop.example", ("10.0.0.9", 53)), ("notcloud.test", ("10.0.0.9", 53)),
])
def test_each_dns_question_goes_to_the_server_for_its_name(name, expected):
	assert reach.nameserver_for(name, ["cloud.test"], "10.0.0.53:5300", "10.0.0.9:53") == expected


def test_with_no_resolver_for_other_names_the_asker_keeps_its_own():
	assert reach.nameserver_for("www.shop.example", ["cloud.test"], "10.0.0.53:5300", None) is None
	with pytest.raises(ValidationError):
		reach.nameserver_for("www.shop.example", ["cloud.test"], "10.0.0.53:5300", "no-port")
