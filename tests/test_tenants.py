"""Whole tenants on the real services `make test` starts (Podman, PowerDNS, Traefik, Garage):
provisioned, proven over HTTPS through Traefik with a client that trusts only the platform
root and resolves through PowerDNS, provisioned again without change, rolled back when a
step fails, and removed."""

import os
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import service_env

from press_selfhosted.demo import DEMO_IMAGE, https_get, prove
from press_selfhosted.dns import DnsChecker, PowerDns
from press_selfhosted.engine import Engine, object_name
from press_selfhosted.exceptions import ContainerNotFound, ImageMissing, ProvisioningFailed, ValidationError
from press_selfhosted.pki import CertificateAuthority
from press_selfhosted.proxy import Proxy
from press_selfhosted.storage import Store
from press_selfhosted.tenants import STEPS, Platform, backup, deprovision, provision

ZONE = f"tenants-{os.getpid()}.test"


@pytest.fixture(scope="module")
def platform(tmp_path_factory, credentials) -> Platform:
	engine = Engine.connect(service_env("PRESS_SELFHOSTED_TEST_PODMAN"))
	try:
		engine.image_id(DEMO_IMAGE)
	except ImageMissing:
		engine.import_rootfs(service_env("PRESS_SELFHOSTED_TEST_ROOTFS"), DEMO_IMAGE)
	key = Path(service_env("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")).read_text().strip()
	dns = PowerDns(service_env("PRESS_SELFHOSTED_TEST_PDNS_API"), api_key=key)
	dns.ensure_zone(ZONE, nameservers=[f"ns1.{ZONE}"])
	store = Store(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), f"tenants-{os.getpid()}", **credentials)
	store.ensure_bucket()
	workdir = tmp_path_factory.mktemp("platform")
	platform = Platform(
		engine=engine,
		image=DEMO_IMAGE,
		dns=dns,
		checker=DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")]),
		zone=ZONE,
		address="127.0.0.1",
		ca=CertificateAuthority.create(workdir / "ca"),
		proxy=Proxy(service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"), service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API")),
		store=store,
		data_dir=workdir,
	)
	yield platform
	for leftover in (workdir / "tenants").glob("*"):  # what a failed test left
		deprovision(platform, leftover.name)
	dns.delete_zone(ZONE)


def https_port() -> int:
	return int(service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS").rsplit(":", 1)[1])


def assert_gone(platform: Platform, tenant: str) -> None:
	site = platform.site(tenant)
	assert site not in platform.proxy.sites()
	assert f"{site}@file" not in {r.name for r in platform.proxy.routers()}
	assert platform.checker.lookup(site, "A") == []
	assert platform.store.list(f"tenants/{tenant}/") == []
	with pytest.raises(ContainerNotFound):
		platform.engine.inspect(object_name("site", tenant))
	assert not (platform.data_dir / "tenants" / tenant).exists()


def test_three_tenants_end_to_end_then_again_without_change_then_removed(platform, tmp_path):
	tenants = ["alpha", "bravo", "charlie"]
	seen = []
	reports = [provision(platform, t, progress=lambda *event: seen.append(event)) for t in tenants]
	assert [r.changed for r in reports] == [list(STEPS)] * 3
	assert seen[:2] == [("alpha", "container", "started"), ("alpha", "container", "changed")]
	assert len({r.port for r in reports}) == 3 and all(32300 <= r.port <= 32500 for r in reports)

	proofs = prove(platform, reports, https_port())
	for proof in proofs:
		# Each site answers its own page, never another tenant's.
		assert (proof.status, proof.body) == (200, f"tenant {proof.report.tenant} at {proof.report.site}"), proof
	# A client trusting another root refuses every site.
	stranger = CertificateAuthority.create(tmp_path / "stranger")
	status, reason, _ = https_get("127.0.0.1", https_port(), reports[0].site, stranger.root_pem)
	assert (status, reason) == (0, "unable to get local issuer certificate")

	again = [provision(platform, t) for t in tenants]
	assert [r.changed for r in again] == [[], [], []], "provisioning twice changes nothing"
	assert [r.port for r in again] == [r.port for r in reports]
	assert [r.cert_expiry for r in again] == [r.cert_expiry for r in reports]

	key, size, sha256 = backup(platform, "alpha", tmp_path)
	assert key.startswith("tenants/alpha/backups/") and platform.store.head(key)["sha256"] == sha256 and size > 0

	for tenant in tenants:
		assert deprovision(platform, tenant)
		assert_gone(platform, tenant)
	status, _, _ = https_get("127.0.0.1", https_port(), reports[0].site, platform.ca.root_pem)
	assert status != 200
	assert deprovision(platform, "alpha") == [], "removing twice finds nothing"


def test_a_failed_step_rolls_the_tenant_back_and_names_the_step(platform):
	# Traefik has no entry point of that name: the route is loaded but disabled.
	broken = replace(
		platform,
		proxy=Proxy(platform.proxy.config_dir, service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API"), entry_point="nosuch"),
		timeout=4.0,
	)
	with pytest.raises(ProvisioningFailed) as failed:
		provision(broken, "delta")
	assert failed.value.step == "route" and failed.value.tenant == "delta"
	assert "RouteDisabled" in failed.value.cause and "nosuch" in failed.value.cause
	assert "rolled back" in str(failed.value)
	assert_gone(platform, "delta")


@pytest.mark.parametrize("tenant", ["../etc", "UPPER", "a.b", "", "x" * 40, "-lead"])
def test_bad_tenant_names_are_refused_before_anything_exists(platform, tenant):
	def state():
		containers = sorted(c.name for c in platform.engine.list(["io.press-selfhosted.kind=site"]))
		return platform.proxy.sites(), containers, platform.store.list("tenants/")

	before = state()
	with pytest.raises(ValidationError):
		provision(platform, tenant)
	with pytest.raises(ValidationError):
		deprovision(platform, tenant)
	assert state() == before
