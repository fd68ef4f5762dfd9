"""`bench selfhosted configure`'s input (settings_input.parse), checked against the real
Selfhosted Settings doctype, and DNS server addresses given by name (reach.server_address)."""

import json

import pytest

from conftest import ROOT
from press_selfhosted.exceptions import ValidationError
from press_selfhosted.reach import server_address
from press_selfhosted.settings_input import parse

DOCTYPE = ROOT / "press_selfhosted/press_selfhosted/doctype/selfhosted_settings/selfhosted_settings.json"


@pytest.fixture(scope="module")
def fields() -> dict:
	return {f["fieldname"]: f for f in json.loads(DOCTYPE.read_text())["fields"]}


def test_values_of_every_kind_are_taken(fields):
	values = {"root_domain": "erp.internal", "smtp_port": 1025, "smtp_use_tls": 0, "bench_upstream": "network",
		"s3_secret_key": "s3cr3t", "engine_endpoints": "unix:///run/engine.sock"}
	assert parse(json.dumps(values), fields) == values


@pytest.mark.parametrize("values, message", [
	({"no_such_field": "x"}, "has no field 'no_such_field'"),
	({"smtp_port": "1025"}, "smtp_port takes an integer"),
	({"smtp_port": True}, "smtp_port takes an integer"),
	({"smtp_port": 2**31}, "out of range"),
	({"smtp_use_tls": 2}, "takes 0 or 1"),
	({"root_domain": 5}, "root_domain takes text"),
	({"bench_upstream": "carrier-pigeon"}, "bench_upstream is one of"),
])
def test_a_wrong_name_or_type_is_refused_with_its_reason(fields, values, message):
	with pytest.raises(ValidationError, match=message):
		parse(json.dumps(values), fields)


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '"text"'])
def test_anything_but_one_object_is_refused(fields, text):
	with pytest.raises(ValidationError):
		parse(text, fields)


def test_a_dns_server_may_be_named():
	assert server_address("127.0.0.1:5300") == "127.0.0.1:5300"
	assert server_address("localhost:53") == "127.0.0.1:53"
	assert server_address("[::1]:53") == "[::1]:53"
	for bad in ("localhost", "localhost:0", "localhost:99999", "no-such-host.invalid:53"):
		with pytest.raises(ValidationError):
			server_address(bad)
