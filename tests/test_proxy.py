"""The proxy module from Python, against real Traefik: typed errors, nothing written on bad
input, and a read-back that notices when Traefik has stopped reading the directory."""

import sys
from pathlib import Path

import pytest
from conftest import ROOT, service_env

from press_selfhosted.exceptions import ProxyUnreachable, RouteDisabled, RouteNotLoaded, ValidationError
from press_selfhosted.proxy import Proxy, upstream_url

sys.path.insert(0, str(ROOT / "tools"))
from services import Launcher  # noqa: E402


@pytest.fixture
def proxy() -> Proxy:
	return Proxy(service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"), service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API"))


def certificate(ca, *names):
	issued = ca.issue(list(names))
	return issued.full_chain_pem, issued.private_key_pem()


def test_a_route_is_written_read_back_and_removed(proxy, ca):
	site = "py-route.proxy.test"
	pair = certificate(ca, site)
	(route,) = proxy.write_site(site, ["http://127.0.0.1:9"], certificate=pair)
	assert (route.router, route.service, route.changed) == (f"{site}@file", site, True)
	(status,) = proxy.wait_loaded([route])
	assert (status.name, status.status, status.errors) == (route.router, "enabled", [])
	assert not proxy.write_site(site, ["http://127.0.0.1:9"], certificate=pair)[0].changed
	assert site in proxy.sites()
	assert proxy.remove_site(site)
	proxy.wait_gone([route.router])
	assert site not in proxy.sites()


def test_bad_input_raises_validation_error_and_writes_nothing(proxy, ca):
	before = sorted(p.name for p in Path(proxy.config_dir).rglob("*"))
	key = certificate(ca, "py-bad.proxy.test")[1]
	with pytest.raises(ValidationError, match="upstream"):
		proxy.write_site("py-bad.proxy.test", ["http://127.0.0.1:9/x"])
	with pytest.raises(ValidationError, match="does not cover"):
		proxy.write_site("py-bad.proxy.test", ["http://127.0.0.1:9"], certificate=certificate(ca, "other.test"))
	with pytest.raises(ValidationError):
		proxy.write_site("py-bad.proxy.test\nrule: x", ["http://127.0.0.1:9"])
	with pytest.raises(ValidationError):
		proxy.write_site("py-bad.proxy.test", ["http://127.0.0.1:9"], certificate=("not a cert", key))
	with pytest.raises(ValidationError):
		Proxy("relative", "http://127.0.0.1:1")
	assert sorted(p.name for p in Path(proxy.config_dir).rglob("*")) == before
	assert key not in repr(proxy)


def test_a_page_s_address_is_checked_as_the_proxy_writes_it():
	"""What Selfhosted Settings checks its maintenance and unknown-host pages with."""
	assert upstream_url("http://127.0.0.1:32310") == "http://127.0.0.1:32310"
	assert upstream_url("https://pages.example.com") == "https://pages.example.com:443"
	for bad in ("file:///etc/passwd", "http://user:pw@host:1", "http://host:1/path", "127.0.0.1:32310", ""):
		with pytest.raises(ValidationError):
			upstream_url(bad)


def test_a_disabled_router_raises_route_disabled_with_traefik_s_error(ca):
	wrong = Proxy(service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"), service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API"),
		entry_point="nosuch", http_entry_point=None)
	site = "py-disabled.proxy.test"
	routes = wrong.write_site(site, ["http://127.0.0.1:9"], certificate=certificate(ca, site))
	try:
		with pytest.raises(RouteDisabled, match="nosuch"):
			wrong.wait_loaded(routes, timeout=3)
	finally:
		wrong.remove_site(site)


def test_no_traefik_raises_proxy_unreachable(tmp_path):
	with pytest.raises(ProxyUnreachable):
		Proxy(tmp_path / "dynamic", "http://127.0.0.1:9").routers()


def test_a_broken_file_beside_ours_is_caught_by_the_read_back(tmp_path, ca):
	"""What the atomic, validated writes prevent: one broken file and Traefik ignores the
	whole directory. The read-back does not take the written file for a served route."""
	launcher = Launcher(tmp_path / "state")
	launcher.start(["traefik"])
	try:
		env = launcher.env()
		proxy = Proxy(env["PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"], env["PRESS_SELFHOSTED_TEST_TRAEFIK_API"])
		first = proxy.write_site("one.broken.test", ["http://127.0.0.1:9"], certificate=certificate(ca, "one.broken.test"))
		proxy.wait_loaded(first)
		(Path(proxy.config_dir) / "hand-edited.yaml").write_text("http:\n  routers: {oops: [\n")
		second = proxy.write_site("two.broken.test", ["http://127.0.0.1:9"], certificate=certificate(ca, "two.broken.test"))
		with pytest.raises(RouteNotLoaded, match="broken file"):
			proxy.wait_loaded(second, timeout=4)
		# Traefik keeps serving the last good configuration: the first route, not the second.
		names = {r.name for r in proxy.routers()}
		assert "one.broken.test@file" in names and "two.broken.test@file" not in names
		log = (tmp_path / "state" / "traefik" / "traefik.log").read_text()
		assert "hand-edited.yaml" in log
	finally:
		launcher.stop()
