"""DNS's Python API against the real PowerDNS that `make test` starts."""

import os

import pytest
from conftest import service_env

from press_selfhosted import exceptions as exc
from press_selfhosted.dns import DnsChecker, PlatformDns, PowerDns


@pytest.fixture
def pdns():
	with open(service_env("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")) as f:
		return PowerDns(service_env("PRESS_SELFHOSTED_TEST_PDNS_API"), api_key=f.read().strip())


@pytest.fixture
def zone(pdns, request):
	name = f"py-{request.node.name[5:25].replace('_', '-').strip('-')}-{os.getpid()}.test"
	assert pdns.ensure_zone(name, nameservers=[f"ns1.{name}"])
	yield name
	pdns.delete_zone(name)


def test_records_round_trip_and_answer(pdns, zone):
	check = DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")])
	pdns.upsert(zone, [(f"acme.{zone}", "A", 60, ["10.1.0.1"]), (f"_acme-challenge.acme.{zone}", "TXT", 60, ["t0ken"])])
	assert check.wait_for(f"acme.{zone}", "A", ["10.1.0.1"], timeout=10) >= 0
	assert check.lookup(f"_acme-challenge.acme.{zone}", "txt") == ['"t0ken"']
	assert (f"acme.{zone}.", "A", 60, ["10.1.0.1"]) in pdns.records(zone)
	with pytest.raises(exc.DnsNotPropagated):
		check.wait_for(f"acme.{zone}", "A", [], timeout=0.3)  # still answers 10.1.0.1
	pdns.delete(zone, [(f"acme.{zone}", "A")])
	assert check.wait_for(f"acme.{zone}", "A", [], timeout=10) >= 0
	assert check.lookup(f"acme.{zone}", "A") == []
	with pytest.raises(exc.DnsNotPropagated, match="10.1.0.9"):
		check.wait_for(f"acme.{zone}", "A", ["10.1.0.9"], timeout=0.3)
	assert not pdns.ensure_zone(zone, nameservers=[f"ns1.{zone}"])


def test_errors_are_typed_and_the_key_stays_out(pdns, zone):
	with open(service_env("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")) as f:
		key = f.read().strip()
	assert key not in repr(pdns)
	with pytest.raises(exc.ZoneMissing):
		pdns.upsert("absent.test", [("a.absent.test", "A", 60, ["10.0.0.1"])])
	with pytest.raises(exc.DnsAccessDenied):
		PowerDns(service_env("PRESS_SELFHOSTED_TEST_PDNS_API"), api_key="wrong").zones()
	for bad in [("a..b", "A", 60, ["10.0.0.1"]), (f"x.{zone}", "MX", 60, ["10 mail"]), (f"x.{zone}", "A", 60, ["nope"]),
			("x.elsewhere.test", "A", 60, ["10.0.0.1"])]:
		with pytest.raises(exc.ValidationError):
			pdns.upsert(zone, [bad])
	with pytest.raises(exc.ValidationError):
		DnsChecker(["localhost"])
	with pytest.raises(exc.ValidationError, match="at least one name server"):
		pdns.ensure_zone("other.test", nameservers=[])


def test_platform_names_point_move_and_go(pdns, zone):
	"""Press's events in plain data: a server's A record, a site's CNAME to its proxy, a site
	moved to another proxy, then removed; each read back from the authoritative server."""
	check = DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")])
	sub = f"sub.{zone}"
	assert pdns.ensure_zone(sub, nameservers=[f"ns1.{sub}"])
	try:
		names = PlatformDns(pdns, check, ttl=60)
		assert names.zone_for(f"acme.{sub}") == f"{sub}."  # the most specific zone wins
		assert names.zone_for(f"n1.{zone}") == f"{zone}."
		assert names.zone_for("acme.elsewhere.test") is None
		assert names.point(f"n1.{zone}", "10.2.0.1")[1] == "A"
		assert names.point(f"acme.{sub}", f"n1.{zone}")[1] == "CNAME"
		assert check.lookup(f"acme.{sub}", "CNAME") == [f"n1.{zone}."]
		names.point(f"acme.{sub}", "10.2.0.2")  # a CNAME may not sit beside an A: it is replaced
		assert check.lookup(f"acme.{sub}", "A") == ["10.2.0.2"]
		assert [r[:2] for r in pdns.records(sub) if r[0] == f"acme.{sub}."] == [(f"acme.{sub}.", "A")]
		assert names.remove(f"acme.{sub}")
		assert check.lookup(f"acme.{sub}", "A") == [] and check.lookup(f"acme.{sub}", "CNAME") == []
		assert not names.remove("acme.elsewhere.test")
		assert not names.remove(f"acme.{sub}")  # nothing left to remove: said so
		with pytest.raises(exc.ZoneMissing, match="Root Domain"):
			names.point("acme.elsewhere.test", "10.2.0.3")
		with pytest.raises(exc.ValidationError):
			names.point(f"bad..name.{zone}", "10.2.0.3")
		assert check.lookup(f"n1.{zone}", "A") == ["10.2.0.1"]  # untouched by the others
	finally:
		pdns.delete_zone(sub)
