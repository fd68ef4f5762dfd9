"""Every number argument of the native API refuses a value its type cannot hold (a negative
validity, a TTL past 2³², a port past 65535, an int too large for a float) with the same typed
ValidationError as any other bad input, before anything is sent or written; Python's untyped
OverflowError never reaches the caller. A value that is no number stays a TypeError."""

import os
from datetime import datetime, timezone

import pytest
from conftest import service_env

from press_selfhosted.dns import DnsChecker, PowerDns
from press_selfhosted.engine import Engine
from press_selfhosted.exceptions import ValidationError
from press_selfhosted.pki import CertificateAuthority, inspect_certificate, self_signed_certificate
from press_selfhosted.proxy import Proxy
from press_selfhosted.storage import Store, expired_backups

HUGE = 10**400  # no C number type holds it, a float neither

# Stores and DNS servers where nothing listens: a request would raise an "unreachable" error,
# so a ValidationError shows that the refusal came before any request.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def store() -> Store:
	return Store(NOWHERE, "bucket", access_key="GK0123456789abcdef01234567", secret_key="s" * 64, region="garage")


@pytest.fixture(scope="module")
def engine() -> Engine:
	return Engine.connect(service_env("PRESS_SELFHOSTED_TEST_PODMAN"))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
	ca = CertificateAuthority.create(tmp_path_factory.mktemp("ca") / "ca")
	return ca, inspect_certificate(ca.issue(["a.demo.test"]).full_chain_pem)


def calls(ca, info, store, engine, proxy):
	"""(what, call taking the bad value): one per number argument of the API."""
	return [
		("issue validity_days", lambda v: ca.issue(["a.demo.test"], validity_days=v)),
		("self-signed validity_days", lambda v: self_signed_certificate(["a.demo.test"], validity_days=v)),
		("needs_renewal threshold_days", lambda v: info.needs_renewal(v)),
		("PowerDns.upsert ttl", lambda v: PowerDns(NOWHERE, api_key="k").upsert("z.test", [("a.z.test", "A", v, ["10.0.0.1"])])),
		("DnsChecker.wait_for timeout", lambda v: DnsChecker(["127.0.0.1:9"]).wait_for("a.z.test", "A", ["10.0.0.1"], timeout=v)),
		("Store.get_range start", lambda v: store.get_range("k", v)),
		("Store.get_range end", lambda v: store.get_range("k", 0, v)),
		("Store.presign_get expires", lambda v: store.presign_get("k", expires=v)),
		("Store.presign_put expires", lambda v: store.presign_put("k", expires=v)),
		("Store.presign_part number", lambda v: store.presign_part("k", "upload", v)),
		("Store.complete_multipart part number", lambda v: store.complete_multipart("k", "upload", [(v, "etag")])),
		("Store.check_quota quota", lambda v: store.check_quota("p/", v, 0)),
		("Store.upload_file concurrency", lambda v: store.upload_file(__file__, "k", concurrency=v)),
		("Store.upload_file attempts", lambda v: store.upload_file(__file__, "k", attempts=v)),
		("Store.upload_file quota", lambda v: store.upload_file(__file__, "k", quota=("p/", v))),
		("expired_backups keep", lambda v: expired_backups([("s", "k", datetime.now(timezone.utc))], scheme="fifo", keep=v)),
		("Engine.allocate_ports count", lambda v: engine.allocate_ports(v)),
		("Engine.allocate_ports start", lambda v: engine.allocate_ports(1, start=v)),
		("Engine.run published port", lambda v: engine.run("erp-saas-cloud-c16-never", "none:1", ports={8000: v})),
		("Engine.run memory_bytes", lambda v: engine.run("erp-saas-cloud-c16-never", "none:1", memory_bytes=v)),
		("Engine.run cpus", lambda v: engine.run("erp-saas-cloud-c16-never", "none:1", cpus=v)),
		("Engine.stop timeout", lambda v: engine.stop("erp-saas-cloud-c16-never", timeout=v)),
		("Engine.logs tail", lambda v: engine.logs("erp-saas-cloud-c16-never", tail=v)),
		("Engine.exec timeout", lambda v: engine.exec("erp-saas-cloud-c16-never", ["true"], timeout=v)),
		("Proxy.wait_gone timeout", lambda v: proxy.wait_gone(["x@file"], timeout=v)),
	]


FLOATS = {"DnsChecker.wait_for timeout", "Engine.run cpus", "Engine.exec timeout", "Proxy.wait_gone timeout"}
SIGNED = {"needs_renewal threshold_days", "Engine.run memory_bytes", "Engine.stop timeout"}


@pytest.fixture(scope="module")
def every_call(certificate, store, engine, tmp_path_factory):
	ca, info = certificate
	proxy = Proxy(str(tmp_path_factory.mktemp("dynamic")), NOWHERE)
	return calls(ca, info, store, engine, proxy)


def bad_values(what: str) -> list[int]:
	if what in FLOATS:
		return [HUGE, -HUGE]
	if what in SIGNED:
		return [2**63, -(2**63) - 1, HUGE]
	return [-1, 2**64, -HUGE]


def test_every_number_argument_refuses_what_its_type_cannot_hold(every_call):
	refused = []
	for what, call in every_call:
		for value in bad_values(what):
			with pytest.raises(ValidationError, match="out of range") as raised:
				call(value)
			assert not isinstance(raised.value, OverflowError), what
			refused.append(what)
	assert len(set(refused)) == len(every_call) == 25


def test_the_message_names_the_value_and_the_range(every_call):
	calls_by_name = dict(every_call)
	with pytest.raises(ValidationError) as raised:
		calls_by_name["issue validity_days"](-1)
	assert str(raised.value) == "-1 is out of range: expected an integer from 0 to 4294967295"
	with pytest.raises(ValidationError) as raised:
		calls_by_name["Engine.allocate_ports start"](70000)
	assert "70000 is out of range: expected an integer from 0 to 65535" == str(raised.value)
	with pytest.raises(ValidationError) as raised:
		calls_by_name["PowerDns.upsert ttl"](HUGE)
	assert len(str(raised.value)) < 120 and "401 digits" in str(raised.value)  # a huge int is cut short


def test_an_int_that_prints_oddly_is_refused_without_a_panic(every_call):
	class Odd(int):
		def __str__(self):
			return "€" * 50  # three bytes each: byte 20 is inside a character

	with pytest.raises(ValidationError, match="out of range") as raised:
		dict(every_call)["issue validity_days"](Odd(-1))
	assert str(raised.value).startswith("€" * 20 + "… (0 digits)")


def test_values_that_are_no_numbers_stay_type_errors(every_call):
	calls_by_name = dict(every_call)
	for what in ("issue validity_days", "Store.presign_get expires", "Engine.allocate_ports count"):
		with pytest.raises(TypeError):
			calls_by_name[what]("90")


def test_refused_numbers_change_nothing(tmp_path, every_call):
	proxy_dir = tmp_path / "dynamic"
	proxy = Proxy(str(proxy_dir), NOWHERE)
	before = sorted(p.name for p in proxy_dir.rglob("*"))
	with pytest.raises(ValidationError):
		proxy.wait_loaded([], timeout=HUGE)
	ca_dir = tmp_path / "ca"
	with pytest.raises(ValidationError):
		CertificateAuthority.create(ca_dir, root_validity_days=-1)
	assert not ca_dir.exists(), "no CA directory was made"
	assert sorted(p.name for p in proxy_dir.rglob("*")) == before
	assert os.listdir(tmp_path) == ["dynamic"]
