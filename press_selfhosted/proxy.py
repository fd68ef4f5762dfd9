"""Routing on Traefik, for `bench console` and the Press integration.

	from press_selfhosted.proxy import Proxy
	proxy = Proxy("/etc/traefik/dynamic", "http://127.0.0.1:8080")
	routes = proxy.write_site("acme.cloud.example.com", ["http://127.0.0.1:32310"],
		certificate=(cert.full_chain_pem, cert.private_key_pem()))
	proxy.wait_loaded(routes)       # RouteDisabled carries Traefik's own error
"""

from press_selfhosted._native import Proxy, Route, RouterStatus, upstream_url

__all__ = ["Proxy", "Route", "RouterStatus", "upstream_url"]
