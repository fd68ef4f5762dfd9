"""The platform CA against real verifiers: the openssl CLI and TLS handshakes through Python's
ssl module (OpenSSL), with a client that trusts only the platform root."""

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import openssl, write

from press_selfhosted.demo import handshake, tls_server
from press_selfhosted.exceptions import CertificateError, ValidationError
from press_selfhosted.pki import CertificateAuthority, inspect_certificate, obtain_certificate, self_signed_certificate


def test_openssl_verifies_the_chain_and_needs_the_intermediate(ca, tmp_path):
	leaf = ca.issue(["*.demo.test", "demo.test"])
	root = write(tmp_path / "root.pem", ca.root_pem)
	chain = write(tmp_path / "chain.pem", leaf.chain_pem)
	cert = write(tmp_path / "leaf.pem", leaf.certificate_pem)

	ok = openssl("verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", root, "-untrusted", chain, cert)
	assert ok.returncode == 0 and ok.stdout.strip().endswith(": OK"), ok.stdout + ok.stderr
	alone = openssl("verify", "-CAfile", root, cert)
	assert alone.returncode != 0 and "unable to get local issuer certificate" in alone.stdout + alone.stderr
	text = openssl("x509", "-in", cert, "-noout", "-text").stdout
	assert "X509v3 Subject Key Identifier" in text and "X509v3 Authority Key Identifier" in text
	assert "CA:FALSE" in text and "TLS Web Server Authentication" in text


def test_wildcard_handshakes_succeed_under_it_and_fail_elsewhere(ca, tmp_path):
	leaf = ca.issue(["*.demo.test", "demo.test"])
	with tls_server(leaf, tmp_path / "srv") as port:
		for name in ("a.demo.test", "b.demo.test", "demo.test"):
			result = handshake(port, name, ca.root_pem)
			assert result.ok, (name, result.detail)
			assert result.detail == f"hello from {name}"
		evil = handshake(port, "evil.test", ca.root_pem)
		deep = handshake(port, "x.a.demo.test", ca.root_pem)
	assert not evil.ok and "Hostname mismatch" in evil.detail
	assert not deep.ok, "a wildcard covers one label only"


def test_a_client_trusting_another_root_refuses(ca, tmp_path):
	other = CertificateAuthority.create(tmp_path / "other")
	with tls_server(ca.issue(["a.demo.test"]), tmp_path / "srv") as port:
		result = handshake(port, "a.demo.test", other.root_pem)
	assert not result.ok and "unable to get local issuer certificate" in result.detail


def test_expired_certificate_is_refused(ca, tmp_path):
	expired = ca.issue(["a.demo.test"], not_before=datetime.now(timezone.utc) - timedelta(days=10), validity_days=2)
	assert expired.info().days_left < 0 and expired.info().needs_renewal()
	with tls_server(expired, tmp_path / "srv") as port:
		result = handshake(port, "a.demo.test", ca.root_pem)
	assert not result.ok and result.detail == "certificate has expired"
	root = write(tmp_path / "root.pem", ca.root_pem)
	chain = write(tmp_path / "chain.pem", expired.chain_pem)
	verify = openssl("verify", "-CAfile", root, "-untrusted", chain, write(tmp_path / "e.pem", expired.certificate_pem))
	assert verify.returncode != 0 and "certificate has expired" in verify.stdout + verify.stderr


def test_not_yet_valid_certificate_is_refused(ca, tmp_path):
	future = ca.issue(["a.demo.test"], not_before=datetime.now(timezone.utc) + timedelta(days=1))
	with tls_server(future, tmp_path / "srv") as port:
		result = handshake(port, "a.demo.test", ca.root_pem)
	assert not result.ok and result.detail == "certificate is not yet valid"


@pytest.mark.parametrize("key_type", ["ecdsa-p256", "ecdsa-p384", "ed25519"])
def test_every_key_type_completes_a_handshake(tmp_path, key_type):
	ca = CertificateAuthority.create(tmp_path / "ca", key_type=key_type)
	leaf = ca.issue(["a.demo.test"], key_type=key_type)
	assert leaf.key_type == key_type
	with tls_server(leaf, tmp_path / "srv") as port:
		result = handshake(port, "a.demo.test", ca.root_pem)
	assert result.ok, result.detail


def test_ip_address_certificates(ca, tmp_path):
	leaf = ca.issue(["127.0.0.1", "::1"])
	assert leaf.info().names == ["127.0.0.1", "::1"]
	with tls_server(leaf, tmp_path / "srv") as port:
		assert handshake(port, "127.0.0.1", ca.root_pem).ok
		assert not handshake(port, "127.0.0.2", ca.root_pem).ok


def test_client_usage_enables_mutual_tls_and_server_usage_does_not(ca, tmp_path):
	server = ca.issue(["engine.demo.test"])
	client = ca.issue(["press.demo.test"], server=False, client=True)
	server_only = ca.issue(["press.demo.test"])
	client_files = client.write_files(tmp_path / "client", "press")
	wrong_files = server_only.write_files(tmp_path / "wrong", "press")
	with tls_server(server, tmp_path / "srv", client_ca_pem=ca.root_pem) as port:
		assert handshake(port, "engine.demo.test", ca.root_pem, client_files=client_files).ok
		refused = handshake(port, "engine.demo.test", ca.root_pem, client_files=wrong_files)
		anonymous = handshake(port, "engine.demo.test", ca.root_pem)
	assert not refused.ok, "a certificate without the client usage must not authenticate a client"
	assert not anonymous.ok
	purpose = openssl(
		"verify", "-purpose", "sslclient", "-CAfile", write(tmp_path / "r.pem", ca.root_pem),
		"-untrusted", write(tmp_path / "c.pem", client.chain_pem), write(tmp_path / "l.pem", client.certificate_pem),
	)
	assert purpose.returncode == 0, purpose.stdout + purpose.stderr


def test_issuing_needs_only_the_intermediate(tmp_path):
	created = CertificateAuthority.create(tmp_path / "ca", passphrase="op-secret")
	(tmp_path / "ca" / "root.key").rename(tmp_path / "offline-root.key")
	ca = CertificateAuthority.load(tmp_path / "ca", passphrase="op-secret")
	assert ca.root_pem == created.root_pem
	with tls_server(ca.issue(["a.demo.test"]), tmp_path / "srv") as port:
		assert handshake(port, "a.demo.test", created.root_pem).ok


def test_encrypted_keys_round_trip_through_openssl(ca, tmp_path):
	leaf = ca.issue(["a.demo.test"])
	plain = leaf.private_key_pem()
	encrypted = leaf.private_key_pem("correct horse battery")
	assert encrypted.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
	assert "correct horse" not in encrypted
	from press_selfhosted.pki import decrypt_private_key

	assert decrypt_private_key(encrypted, "correct horse battery") == plain
	enc_path = write(tmp_path / "enc.key", encrypted)
	decrypted = openssl("pkey", "-in", enc_path, "-passin", "pass:correct horse battery")
	assert decrypted.returncode == 0 and decrypted.stdout == plain
	assert openssl("pkey", "-in", enc_path, "-passin", "pass:wrong").returncode != 0

	# A key encrypted by openssl reads back too.
	theirs = openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:their-pass", input=plain).stdout
	assert decrypt_private_key(theirs, "their-pass") == plain


def test_wrong_or_missing_passphrase_is_a_clear_error_that_leaks_nothing(tmp_path):
	CertificateAuthority.create(tmp_path / "ca", passphrase="the-real-passphrase")
	with pytest.raises(CertificateError, match="wrong passphrase") as wrong:
		CertificateAuthority.load(tmp_path / "ca", passphrase="a-guessed-passphrase")
	assert "passphrase" in str(wrong.value)
	assert "a-guessed" not in str(wrong.value) and "the-real" not in str(wrong.value)
	assert "a-guessed" not in repr(wrong.value)
	with pytest.raises(CertificateError, match="passphrase is required"):
		CertificateAuthority.load(tmp_path / "ca")


def _mode(path) -> int:
	return stat.S_IMODE(os.stat(path).st_mode)


def test_files_are_written_with_private_key_modes_whatever_the_umask(tmp_path):
	old = os.umask(0o077)
	try:
		ca = CertificateAuthority.create(tmp_path / "ca", passphrase="pw-for-files")
		files = ca.issue(["a.demo.test"]).write_files(tmp_path / "certs", "a.demo.test", passphrase="pw-for-files")
	finally:
		os.umask(old)
	assert _mode(tmp_path / "ca") == 0o700
	assert {p.name: _mode(p) for p in (tmp_path / "ca").iterdir()} == {
		"root.key": 0o600, "intermediate.key": 0o600, "root.crt": 0o644, "intermediate.crt": 0o644,
	}
	assert _mode(files["private_key"]) == 0o600
	assert all(_mode(files[role]) == 0o644 for role in ("certificate", "chain", "full_chain"))
	assert files["private_key"].read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
	assert sorted(p.name for p in (tmp_path / "certs").iterdir()) == [
		"a.demo.test.chain.crt", "a.demo.test.crt", "a.demo.test.fullchain.crt", "a.demo.test.key",
	]


def test_inspection_matches_openssl(ca, tmp_path):
	leaf = ca.issue(["Shop.Demo.test", "10.1.2.3"], validity_days=28)
	info = inspect_certificate(leaf.full_chain_pem)
	cert = write(tmp_path / "leaf.pem", leaf.certificate_pem)
	assert info.names == ["shop.demo.test", "10.1.2.3"]
	assert info.subject == "CN=shop.demo.test"
	assert info.issuer == "O=Press Self-Hosted, CN=Press Self-Hosted Intermediate CA"
	assert not info.is_ca and inspect_certificate(ca.root_pem).is_ca
	fingerprint = openssl("x509", "-in", cert, "-noout", "-fingerprint", "-sha256").stdout
	assert fingerprint.split("=", 1)[1].strip().replace(":", "").lower() == info.fingerprint_sha256
	serial = openssl("x509", "-in", cert, "-noout", "-serial").stdout
	assert serial.split("=", 1)[1].strip().lower() == info.serial
	end = openssl("x509", "-in", cert, "-noout", "-enddate").stdout.split("=", 1)[1].strip()
	assert datetime.strptime(end, "%b %d %H:%M:%S %Y GMT").replace(tzinfo=timezone.utc) == info.not_after
	assert info.not_after.tzinfo is not None
	assert info.days_left == 27
	assert not info.needs_renewal(25) and info.needs_renewal(30)


def test_self_signed_fallback_is_trusted_only_as_itself(tmp_path):
	fallback = self_signed_certificate(["*.fallback.test", "fallback.test"])
	info = fallback.info()
	assert fallback.chain_pem == "" and info.subject == info.issuer
	own = write(tmp_path / "self.pem", fallback.certificate_pem)
	assert openssl("verify", "-CAfile", own, own).returncode == 0
	with tls_server(fallback, tmp_path / "srv") as port:
		assert handshake(port, "shop.fallback.test", fallback.certificate_pem).ok
		assert not handshake(port, "other.test", fallback.certificate_pem).ok
		unrelated = CertificateAuthority.create(tmp_path / "ca")
		assert not handshake(port, "shop.fallback.test", unrelated.root_pem).ok


def test_concurrent_issuing_from_threads(ca):
	with ThreadPoolExecutor(max_workers=4) as pool:
		certs = list(pool.map(lambda i: ca.issue([f"site{i}.demo.test"]), range(64)))
	serials = {c.info().serial for c in certs}
	assert len(serials) == 64
	assert [c.info().names for c in certs] == [[f"site{i}.demo.test"] for i in range(64)]


def test_reprs_never_show_keys(ca):
	leaf = ca.issue(["a.demo.test"])
	for text in (repr(leaf), repr(ca), repr(leaf.info())):
		assert "PRIVATE KEY" not in text
	assert "a.demo.test" in repr(leaf)


def test_paths_are_accepted_as_str_or_pathlike(tmp_path):
	ca = CertificateAuthority.create(str(tmp_path / "ca"))
	assert ca.directory == Path(tmp_path / "ca")
	assert CertificateAuthority.load(Path(tmp_path / "ca")).root_pem == ca.root_pem


def test_press_certificates_come_from_the_ca_or_fall_back_self_signed(ca, tmp_path):
	"""What Press's TLS Certificate stores: certificate, full chain, intermediate chain, key."""
	got = obtain_certificate(lambda: ca, "cloud.test", wildcard=True)
	assert got.fallback_reason is None
	assert inspect_certificate(got.certificate).names == ["*.cloud.test", "cloud.test"]
	assert got.full_chain == got.certificate + got.intermediate_chain and got.intermediate_chain == ca.intermediate_pem
	root = write(tmp_path / "root.pem", ca.root_pem)
	chain = write(tmp_path / "chain.pem", got.intermediate_chain)
	ok = openssl("verify", "-CAfile", root, "-untrusted", chain, write(tmp_path / "leaf.pem", got.certificate))
	assert ok.returncode == 0, ok.stderr
	key = write(tmp_path / "key.pem", got.private_key)
	pub = openssl("pkey", "-in", key, "-pubout").stdout
	assert pub and pub == openssl("x509", "-in", tmp_path / "leaf.pem", "-noout", "-pubkey").stdout

	def broken():
		return CertificateAuthority.load(tmp_path / "no-ca")

	fallback = obtain_certificate(broken, "a.cloud.test")
	assert fallback.fallback_reason and "no-ca" in fallback.fallback_reason
	info = inspect_certificate(fallback.certificate)
	assert info.names == ["a.cloud.test"] and info.issuer == info.subject and fallback.intermediate_chain == ""
	with pytest.raises(ValidationError):
		obtain_certificate(broken, "bad..name")
