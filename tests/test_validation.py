"""Bad input gets a typed ValidationError before any key is made, and nothing is written."""

from datetime import datetime

import pytest

from press_selfhosted.exceptions import SelfHostedError, ValidationError
from press_selfhosted.pki import CertificateAuthority, self_signed_certificate

LABEL_64 = "a" * 64
NAME_254 = ".".join(["a" * 63] * 3 + ["a" * 62])

BAD_ISSUES = [
	({"names": []}, "at least one name"),
	({"names": [""]}, "empty"),
	({"names": ["a..demo.test"]}, "empty label"),
	({"names": [f"{LABEL_64}.demo.test"]}, "longer than 63"),
	({"names": [NAME_254]}, "longer than 253"),
	({"names": ["a.*.demo.test"]}, "left-most"),
	({"names": ["*a.demo.test"]}, "left-most"),
	({"names": ["*.test"]}, "two labels"),
	({"names": ["under_score.test"]}, "letters, digits"),
	({"names": ["-lead.demo.test"]}, "hyphen"),
	({"names": ["a.demo.test"], "key_type": "rsa-1024"}, "unknown key type"),
	({"names": ["a.demo.test"], "validity_days": 0}, "between 1 and 397"),
	({"names": ["a.demo.test"], "validity_days": 398}, "between 1 and 397"),
	({"names": ["a.demo.test"], "not_before": datetime(2030, 1, 1)}, "timezone-aware"),
	({"names": ["a.demo.test"], "server": False}, "usage"),
]


@pytest.mark.parametrize("kwargs,reason", BAD_ISSUES, ids=[r for _, r in BAD_ISSUES])
def test_bad_issue_requests_are_refused(ca, kwargs, reason):
	with pytest.raises(ValidationError, match=reason):
		ca.issue(**kwargs)


SELF_SIGNED = [case for case in BAD_ISSUES if "server" not in case[0]]


@pytest.mark.parametrize("kwargs,reason", SELF_SIGNED, ids=[r for _, r in SELF_SIGNED])
def test_bad_self_signed_requests_are_refused(kwargs, reason):
	with pytest.raises(ValidationError, match=reason):
		self_signed_certificate(**kwargs)


def test_validity_bounds_are_inclusive(ca):
	assert ca.issue(["a.demo.test"], validity_days=1).info().days_left == 0
	assert ca.issue(["a.demo.test"], validity_days=397).info().days_left == 396


def test_unicode_domains_become_a_labels(ca):
	assert ca.issue(["bücher.demo.test"]).info().names == ["xn--bcher-kva.demo.test"]


BAD_CAS = [
	({"name": ""}, "CA name"),
	({"name": "x" * 41}, "CA name"),
	({"name": "bad\nname"}, "CA name"),
	({"key_type": "dsa"}, "unknown key type"),
	({"root_validity_days": 0}, "root validity"),
	({"root_validity_days": 100, "intermediate_validity_days": 101}, "intermediate validity"),
	({"passphrase": ""}, "passphrase is empty"),
]


@pytest.mark.parametrize("kwargs,reason", BAD_CAS, ids=[r + str(i) for i, (_, r) in enumerate(BAD_CAS)])
def test_bad_ca_options_create_nothing(tmp_path, kwargs, reason):
	with pytest.raises(ValidationError, match=reason):
		CertificateAuthority.create(tmp_path / "ca", **kwargs)
	assert not (tmp_path / "ca").exists()


def test_bad_file_stems_write_nothing(ca, tmp_path):
	leaf = ca.issue(["a.demo.test"])
	for stem in ("../escape", "a/b", ".hidden", "", "UPPER"):
		with pytest.raises(ValidationError, match="invalid file name"):
			leaf.write_files(tmp_path / "out", stem)
	assert not (tmp_path / "out").exists()


def test_an_existing_ca_is_never_overwritten(ca, tmp_path):
	before = (tmp_path / "ca" / "root.crt").read_text()
	with pytest.raises(SelfHostedError, match="already exists"):
		CertificateAuthority.create(tmp_path / "ca")
	assert (tmp_path / "ca" / "root.crt").read_text() == before


def test_validation_errors_are_value_errors_of_the_hierarchy():
	assert issubclass(ValidationError, SelfHostedError) and issubclass(ValidationError, ValueError)
