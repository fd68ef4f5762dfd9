"""The proxy's jobs, on Traefik instead of nginx: a site's route to its bench (web, and
`/socket.io` to the bench's socketio), its name on PowerDNS, custom domains with their own
certificate, the maintenance page for deactivated and suspended sites. Every route is read
back from Traefik's API, and every name from PowerDNS, before the step succeeds."""

from __future__ import annotations

import asyncio

from press_selfhosted.exceptions import ValidationError
from press_selfhosted.executor.bench import upstreams
from press_selfhosted.executor.job_types import (
	TRAEFIK_RELOADS, body, check_proxy_user, check_site, check_upstream, job_type, names, nothing_to_do, obj,
	text,
)
from press_selfhosted.executor.jobs import Recorder
from press_selfhosted.executor.platform import Platform

# Press's site statuses that its nginx serves from the maintenance page.
MAINTENANCE = ("deactivated", "suspended", "inactive", "broken", "suspended_saas")


@job_type("Add Upstream to Proxy", "POST", "proxy/upstreams", steps=("Add Upstream Directory", "Reload NGINX"),
	check=lambda request: {"upstream": check_upstream(body(request).get("name"))})
def add_upstream(platform: Platform, rec: Recorder, *, upstream: str) -> dict:
	nothing_to_do(rec, "Add Upstream Directory", "Reload NGINX")
	return {}


ROUTE_STEPS = ("Add Site File to Upstream Directory", "Reload NGINX")


@job_type("Add Site to Upstream", "POST", "proxy/upstreams/{upstream}/sites", steps=ROUTE_STEPS,
	check=lambda request, upstream: {"site": check_site(body(request).get("name"))})
def add_site_to_upstream(platform: Platform, rec: Recorder, *, site: str) -> dict:
	return add_site(platform, rec, site, platform.bench_of(site))


@job_type("Add Domain to Upstream", "POST", "proxy/upstreams/{upstream}/domains", steps=ROUTE_STEPS,
	check=lambda request, upstream: {"domain": check_site(body(request).get("domain"))})
def add_domain_to_upstream(platform: Platform, rec: Recorder, *, domain: str) -> dict:
	return add_site(platform, rec, domain, platform.bench_of(domain), frappe_site=platform.site_of(domain),
		require_zone=False)


def add_site(platform: Platform, rec: Recorder, site: str, bench: str, *, hosts: list[str] | None = None,
		maintenance: bool = False, step_name: str = "Add Site File to Upstream Directory",
		certificate: tuple[str, str] | None = None, frappe_site: str | None = None, require_zone: bool = True) -> dict:
	"""Routes the site (and its extra hosts) to its bench and points its name at Traefik; the
	bench is told which Frappe site is asked for (`frappe_site`: a domain names its site)."""
	if require_zone:
		platform.check_in_zone(site)
	with rec.step(step_name) as step:
		web, socketio = upstreams(platform, bench)
		with step.timed("certificate"):
			certificate = certificate or platform.site_certificate(site)
		with step.timed("route and dns"):
			routes = platform.proxy.write_site(site, [web], hosts=hosts or [], socketio=[socketio],
				frappe_site=frappe_site or site, certificate=certificate, maintenance=maintenance)
			records = [platform.dns.point(name, platform.address, wait=False) for name in [site, *(hosts or [])]
				if platform.dns and platform.dns.zone_for(name)]
			# Traefik loading the route and PowerDNS answering the names, awaited side by side.
			asyncio.run(_settled(platform, routes, records))
		step.say(f"{site} → {web} (socket.io → {socketio}){' in maintenance' if maintenance else ''}: "
			f"{'written' if routes[0].changed else 'unchanged'}, loaded by Traefik")
		if maintenance and not platform.proxy.has_maintenance_page():
			step.say("no maintenance page is set (Selfhosted Settings' Maintenance Page URL): the site stays on its "
				"bench, which answers 503 in its maintenance mode")
		for name, *_ in records:
			step.say(f"{name} → {platform.address} on PowerDNS, read back")
	nothing_to_do(rec, "Reload NGINX")
	return {}


async def _settled(platform: Platform, routes, records) -> None:
	await asyncio.gather(platform.proxy.wait_loaded_async(routes, timeout=platform.timeout),
		*(platform.dns.settled(record) for record in records))


@job_type("Remove Site from Upstream", "DELETE", "proxy/upstreams/{upstream}/sites/{site}",
	steps=("Remove Site File from Upstream Directory",),
	check=lambda request, upstream, site: {"site": site, "extra_domains": names(body(request), "extra_domains", check_site)})
def remove_site(platform: Platform, rec: Recorder, *, site: str, extra_domains: list[str]) -> dict:
	with rec.step("Remove Site File from Upstream Directory") as step:
		if platform.proxy.remove_site(site):
			platform.proxy.wait_gone([f"{site}@file"], timeout=platform.timeout)
			step.say(f"route of {site} removed, gone from Traefik")
		else:
			step.say(f"{site} had no route")
		if platform.dns:
			for name in [site, *extra_domains]:
				if platform.dns.remove(name):
					step.say(f"{name} removed from PowerDNS")
	return {}


def check_status(request: object, upstream: str, site: str) -> dict:
	request = body(request)
	return {"site": site, "status": (text(request, "status", limit=64) or "").lower(),
		"extra_domains": names(request, "extra_domains", check_site)}


@job_type("Update Site Status", "POST", "proxy/upstreams/{upstream}/sites/{site}/status",
	steps=("Update Site File", "Reload NGINX"), check=check_status)
def update_status(platform: Platform, rec: Recorder, *, site: str, status: str, extra_domains: list[str]) -> dict:
	return add_site(platform, rec, site, platform.bench_of(site), hosts=extra_domains,
		maintenance=status in MAINTENANCE, step_name="Update Site File")


@job_type("Rename Site on Upstream", "POST", "proxy/upstreams/{upstream}/sites/{site}/rename",
	steps=("Rename Site File in Upstream Directory", "Rename Host Directory", "Rename Site in Host Directory",
		"Reload NGINX"),
	check=lambda request, upstream, site: {"site": site, "new": check_site(body(request).get("new_name")),
		"domains": names(request, "domains", check_site)})
def rename_site(platform: Platform, rec: Recorder, *, site: str, new: str, domains: list[str]) -> dict:
	platform.check_in_zone(new)
	with rec.step("Rename Site File in Upstream Directory") as step:
		web, socketio = upstreams(platform, platform.bench_of(site))
		routes = platform.proxy.write_site(new, [web], hosts=domains, socketio=[socketio],
			frappe_site=new, certificate=platform.site_certificate(new))
		platform.proxy.wait_loaded(routes, timeout=platform.timeout)
		if platform.proxy.remove_site(site):
			platform.proxy.wait_gone([f"{site}@file"], timeout=platform.timeout)
		step.say(f"route {site} → {new}")
		if platform.dns:
			platform.dns.point(new, platform.address)
			platform.dns.remove(site)
			step.say(f"{new} on PowerDNS, {site} removed")
	nothing_to_do(rec, "Rename Host Directory", "Rename Site in Host Directory", "Reload NGINX")
	return {}


def check_certificate(certificate: dict) -> tuple[str, str] | None:
	"""(full chain, private key) in PEM, or None for none."""
	pair = tuple(text(certificate, key, limit=1 << 20) for key in ("fullchain.pem", "privkey.pem"))
	if not any(pair):
		return None
	if not all(pair) or "-----BEGIN" not in pair[0] or "-----BEGIN" not in pair[1]:
		raise ValidationError("a certificate needs fullchain.pem and privkey.pem, in PEM")
	return pair


def check_host(request: object) -> dict:
	request = body(request)
	return {"host": check_site(request.get("name")), "site": check_site(request.get("target")),
		"certificate": check_certificate(obj(request, "certificate"))}


@job_type("Add Host to Proxy", "POST", "proxy/hosts", check=check_host, secrets=("certificate/privkey.pem",),
	steps=("Add Host to Proxy", "Reload NGINX"))
def add_host(platform: Platform, rec: Recorder, *, host: str, site: str, certificate: tuple[str, str] | None) -> dict:
	"""A custom domain of a site, with its own certificate (Press's TLS Certificate)."""
	with rec.step("Add Host to Proxy") as step:
		web, socketio = upstreams(platform, platform.bench_of(site))
		routes = platform.proxy.write_site(host, [web], socketio=[socketio], frappe_site=site,
			certificate=certificate)
		platform.proxy.wait_loaded(routes, timeout=platform.timeout)
		step.say(f"{host} → {site}'s bench, with {'its own certificate' if certificate else 'the platform wildcard'}")
	nothing_to_do(rec, "Reload NGINX")
	return {}


@job_type("Remove Host from Proxy", "DELETE", "proxy/hosts/{host}", steps=("Remove Host from Proxy",))
def remove_host(platform: Platform, rec: Recorder, *, host: str) -> dict:
	with rec.step("Remove Host from Proxy") as step:
		if platform.proxy.remove_site(host):
			platform.proxy.wait_gone([f"{host}@file"], timeout=platform.timeout)
		step.say(f"{host} removed")
	return {}


def check_wildcards(request: object) -> dict:
	"""Press's wildcards: [{domain, certificate, code_server}]."""
	if not isinstance(request, list):
		raise ValidationError(f"the wildcards are a list, got {type(request).__name__}")
	for wildcard in request:
		check_site(body(wildcard).get("domain"))
		check_certificate(obj(wildcard, "certificate"))
	return {}


@job_type("Add Wildcard Hosts to Proxy", "POST", "proxy/wildcards", check=check_wildcards,
	secrets=("*/certificate/privkey.pem",), steps=("Add Wildcard Hosts to Proxy", "Reload NGINX"))
def add_wildcards(platform: Platform, rec: Recorder) -> dict:
	nothing_to_do(rec, "Add Wildcard Hosts to Proxy", "Reload NGINX")
	return {}


@job_type("Reload NGINX Job", "POST", "proxy/reload", steps=("Reload NGINX",))
def reload(platform: Platform, rec: Recorder) -> dict:
	with rec.step("Reload NGINX") as step:
		platform.proxy.routers()  # Traefik answers: its configuration is live
		step.say(TRAEFIK_RELOADS)
	return {}


# Press's SSH proxy gives each bench a user that reaches its container's sshd; benches here run
# no sshd, and the engine is how an administrator reaches a bench (`selfhosted` commands).
@job_type("Add User to Proxy", "POST", "ssh/users", steps=("Add User to Proxy", "Add Certificate to User", "Add Principal to User"),
	check=lambda request: {"user": check_proxy_user(body(request).get("name"))})
def add_ssh_user(platform: Platform, rec: Recorder, *, user: str) -> dict:
	nothing_to_do(rec, "Add User to Proxy", "Add Certificate to User", "Add Principal to User")
	return {}


@job_type("Remove User from Proxy", "DELETE", "ssh/users/{user}", steps=("Remove User from Proxy", "Remove Principal from User"))
def remove_ssh_user(platform: Platform, rec: Recorder, *, user: str) -> dict:
	nothing_to_do(rec, "Remove User from Proxy", "Remove Principal from User")
	return {}
