"""The proxy's jobs, on Traefik instead of nginx: a site's route to its bench (web, and
`/socket.io` to the bench's socketio), its name on PowerDNS, custom domains with their own
certificate, the maintenance page for deactivated and suspended sites. Every route is read
back from Traefik's API, and every name from PowerDNS, before the step succeeds."""

from __future__ import annotations

import asyncio

from press_selfhosted.executor.bench import upstreams
from press_selfhosted.executor.jobs import Recorder
from press_selfhosted.executor.platform import STEPS, TRAEFIK_RELOADS, Platform
from press_selfhosted.names import check_site

# Press's site statuses that its nginx serves from the maintenance page.
MAINTENANCE = ("deactivated", "suspended", "inactive", "broken", "suspended_saas")


def add_upstream(platform: Platform, rec: Recorder, request: dict) -> dict:
	with rec.step("Add Upstream Directory") as step:
		step.say(f"upstream {request.get('name')}: Traefik routes each site to its own bench, nothing to prepare")
	with rec.step("Reload NGINX") as step:
		step.say(TRAEFIK_RELOADS)
	return {}


def add_site(platform: Platform, rec: Recorder, site: str, bench: str, *, hosts: list[str] | None = None,
		maintenance: bool = False, step_name: str = "Add Site File to Upstream Directory",
		certificate: tuple[str, str] | None = None, frappe_site: str | None = None, require_zone: bool = True) -> dict:
	"""Routes the site (and its extra hosts) to its bench and points its name at Traefik; the
	bench is told which Frappe site is asked for (`frappe_site`: a domain names its site)."""
	site = check_site(site)
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
		for name, *_ in records:
			step.say(f"{name} → {platform.address} on PowerDNS, read back")
	with rec.step("Reload NGINX") as step:
		step.say(TRAEFIK_RELOADS)
	return {}


async def _settled(platform: Platform, routes, records) -> None:
	await asyncio.gather(platform.proxy.wait_loaded_async(routes, timeout=platform.timeout),
		*(platform.dns.settled(record) for record in records))


def remove_site(platform: Platform, rec: Recorder, site: str, request: dict) -> dict:
	site = check_site(site)
	with rec.step("Remove Site File from Upstream Directory") as step:
		if platform.proxy.remove_site(site):
			platform.proxy.wait_gone([f"{site}@file"], timeout=platform.timeout)
			step.say(f"route of {site} removed, gone from Traefik")
		else:
			step.say(f"{site} had no route")
		if platform.dns:
			for name in [site, *(request.get("extra_domains") or [])]:
				if platform.dns.remove(check_site(name)):
					step.say(f"{name} removed from PowerDNS")
	return {}


def update_status(platform: Platform, rec: Recorder, site: str, bench: str, request: dict) -> dict:
	status = str(request.get("status") or "").lower()
	return add_site(platform, rec, site, bench, hosts=request.get("extra_domains") or [],
		maintenance=status in MAINTENANCE, step_name="Update Site File")


def rename_site(platform: Platform, rec: Recorder, site: str, bench: str, request: dict) -> dict:
	site, new = check_site(site), check_site(request.get("new_name"))
	platform.check_in_zone(new)
	with rec.step("Rename Site File in Upstream Directory") as step:
		web, socketio = upstreams(platform, bench)
		routes = platform.proxy.write_site(new, [web], hosts=request.get("domains") or [], socketio=[socketio],
			frappe_site=new, certificate=platform.site_certificate(new))
		platform.proxy.wait_loaded(routes, timeout=platform.timeout)
		if platform.proxy.remove_site(site):
			platform.proxy.wait_gone([f"{site}@file"], timeout=platform.timeout)
		step.say(f"route {site} → {new}")
		if platform.dns:
			platform.dns.point(new, platform.address)
			platform.dns.remove(site)
			step.say(f"{new} on PowerDNS, {site} removed")
	with rec.step("Rename Host Directory") as step:
		step.say("no host directory: certificates live beside the route")
	with rec.step("Rename Site in Host Directory") as step:
		step.say("nothing to rename")
	with rec.step("Reload NGINX") as step:
		step.say(TRAEFIK_RELOADS)
	return {}


def add_host(platform: Platform, rec: Recorder, request: dict, bench: str) -> dict:
	"""A custom domain of a site, with its own certificate (Press's TLS Certificate)."""
	host, site = check_site(request.get("name")), check_site(request.get("target"))
	certificate = request.get("certificate") or {}
	pair = (certificate.get("fullchain.pem"), certificate.get("privkey.pem"))
	with rec.step("Add Host to Proxy") as step:
		web, socketio = upstreams(platform, bench)
		routes = platform.proxy.write_site(host, [web], socketio=[socketio], frappe_site=site,
			certificate=pair if all(pair) else None)
		platform.proxy.wait_loaded(routes, timeout=platform.timeout)
		step.say(f"{host} → {site}'s bench, with {'its own certificate' if all(pair) else 'the platform wildcard'}")
	with rec.step("Reload NGINX") as step:
		step.say(TRAEFIK_RELOADS)
	return {}


def remove_host(platform: Platform, rec: Recorder, host: str) -> dict:
	host = check_site(host)
	with rec.step("Remove Host from Proxy") as step:
		if platform.proxy.remove_site(host):
			platform.proxy.wait_gone([f"{host}@file"], timeout=platform.timeout)
		step.say(f"{host} removed")
	return {}


def add_wildcards(platform: Platform, rec: Recorder, request: list | dict) -> dict:
	with rec.step("Add Wildcard Hosts to Proxy") as step:
		step.say("the platform's wildcard certificate is Traefik's default certificate, kept by the TLS integration")
	with rec.step("Reload NGINX") as step:
		step.say(TRAEFIK_RELOADS)
	return {}


def reload(platform: Platform, rec: Recorder) -> dict:
	with rec.step("Reload NGINX") as step:
		platform.proxy.routers()  # Traefik answers: its configuration is live
		step.say(TRAEFIK_RELOADS)
	return {}


# Press's SSH proxy gives each bench a user that reaches its container's sshd; benches here run
# no sshd, and the engine is how an administrator reaches a bench (`selfhosted` commands).
NO_SSH = "no SSH proxy on this platform: a bench is reached through its container engine"


def ssh_user(platform: Platform, rec: Recorder, adding: bool) -> dict:
	names = STEPS["Add User to Proxy" if adding else "Remove User from Proxy"]
	for name in names:
		with rec.step(name) as step:
			step.say(NO_SSH)
	return {}
