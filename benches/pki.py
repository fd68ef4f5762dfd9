"""Issue N leaf certificates (ECDSA P-256, 90 days, SAN, server usage, SKI/AKI) signed by the
same intermediate, three ways, in one run:

- press_selfhosted: `CertificateAuthority.issue` through the Python API, then the PEMs;
- cryptography: the Python library most Python code uses to make certificates;
- openssl CLI: key, CSR and signature as three subprocesses per certificate, the shape of
  Press's Certificate Authority doctype (`openssl genrsa` / `req` / `ca` through subprocess).

Each contender runs in its own process, so its peak RSS (including the openssl children) is
its own. The last certificate of each is checked with `openssl verify`.

	make bench                     # N = 1000
	make bench ARGS="--count 200"
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off the path
from common import WorkerFailed, report, run_worker  # noqa: E402

CONTENDERS = ("press_selfhosted", "cryptography", "openssl-cli")


def issue_press_selfhosted(count: int, ca_dir: Path, out: Path) -> None:
	from press_selfhosted.pki import CertificateAuthority

	ca = CertificateAuthority.load(ca_dir)
	for i in range(count):
		cert = ca.issue([f"site{i}.bench.test"])
		pem, key = cert.full_chain_pem, cert.private_key_pem()
	(out / "last.pem").write_text(pem)
	(out / "last.key").write_text(key)


def issue_cryptography(count: int, ca_dir: Path, out: Path) -> None:
	from cryptography import x509
	from cryptography.hazmat.primitives import hashes, serialization
	from cryptography.hazmat.primitives.asymmetric import ec
	from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

	issuer_cert = x509.load_pem_x509_certificate((ca_dir / "intermediate.crt").read_bytes())
	issuer_key = serialization.load_pem_private_key((ca_dir / "intermediate.key").read_bytes(), None)
	issuer_ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
	aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski)
	chain = (ca_dir / "intermediate.crt").read_text()
	for i in range(count):
		name = f"site{i}.bench.test"
		key = ec.generate_private_key(ec.SECP256R1())
		now = datetime.now(timezone.utc)
		cert = (
			x509.CertificateBuilder()
			.subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
			.issuer_name(issuer_cert.subject)
			.public_key(key.public_key())
			.serial_number(x509.random_serial_number())
			.not_valid_before(now - timedelta(minutes=5))
			.not_valid_after(now + timedelta(days=90))
			.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
			.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
			.add_extension(
				x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
			)
			.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
			.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
			.add_extension(aki, critical=False)
			.sign(issuer_key, hashes.SHA256())
		)
		pem = cert.public_bytes(serialization.Encoding.PEM).decode() + chain
		key_pem = key.private_bytes(
			serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
		).decode()
	(out / "last.pem").write_text(pem)
	(out / "last.key").write_text(key_pem)


def issue_openssl_cli(count: int, ca_dir: Path, out: Path) -> None:
	ext = out / "leaf.ext"
	run = lambda *argv: subprocess.run(argv, check=True, capture_output=True)  # noqa: E731
	for i in range(count):
		name = f"site{i}.bench.test"
		key, csr, pem = out / "leaf.key", out / "leaf.csr", out / "leaf.pem"
		ext.write_text(
			f"subjectAltName=DNS:{name}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
			"extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
		)
		run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
		run("openssl", "req", "-new", "-key", str(key), "-subj", f"/CN={name}", "-out", str(csr))
		run(
			"openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_dir / "intermediate.crt"),
			"-CAkey", str(ca_dir / "intermediate.key"), "-CAcreateserial", "-days", "90", "-sha256",
			"-extfile", str(ext), "-out", str(pem),
		)
	(out / "last.pem").write_text(pem.read_text() + (ca_dir / "intermediate.crt").read_text())
	(out / "last.key").write_text(key.read_text())


def worker(name: str, count: int, ca_dir: Path, out: Path) -> None:
	issue = {"press_selfhosted": issue_press_selfhosted, "cryptography": issue_cryptography, "openssl-cli": issue_openssl_cli}[name]
	started = time.perf_counter()
	issue(count, ca_dir, out)
	elapsed = time.perf_counter() - started
	report(seconds=elapsed)


def measure(name: str, count: int, ca_dir: Path, work: Path) -> dict:
	out = work / name
	out.mkdir()
	result = run_worker(__file__, name, "--count", str(count), "--ca", str(ca_dir), "--out", str(out))
	verify = subprocess.run(
		["openssl", "verify", "-CAfile", str(ca_dir / "root.crt"), "-untrusted", str(ca_dir / "intermediate.crt"), str(out / "last.pem")],
		capture_output=True, text=True,
	)
	result["verified"] = verify.returncode == 0
	return result


def main() -> int:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--count", type=int, default=1000)
	parser.add_argument("--worker", choices=CONTENDERS)
	parser.add_argument("--ca", type=Path)
	parser.add_argument("--out", type=Path)
	args = parser.parse_args()
	if args.worker:
		worker(args.worker, args.count, args.ca, args.out)
		return 0

	from press_selfhosted.pki import CertificateAuthority

	with tempfile.TemporaryDirectory(prefix="press-selfhosted-bench-") as tmp:
		work = Path(tmp)
		CertificateAuthority.create(work / "ca")  # unencrypted keys: all three read the same files
		results = {name: measure(name, args.count, work / "ca", work) for name in CONTENDERS}

	ours = results["press_selfhosted"]["seconds"]
	print(f"Issue {args.count} leaf certificates (ECDSA P-256), {platform.machine()}, {os.cpu_count()} cores, "
		f"Python {platform.python_version()}, {subprocess.run(['openssl', 'version'], capture_output=True, text=True).stdout.strip()}")
	print()
	print("| contender | total (s) | certificates/s | press_selfhosted is × faster | peak RSS (MiB) | chain verifies |")
	print("|---|---:|---:|---:|---:|---|")
	for name, r in results.items():
		print(f"| {name} | {r['seconds']:.2f} | {args.count / r['seconds']:,.0f} | {r['seconds'] / ours:.1f} | "
			f"{r['peak_kib'] / 1024:.1f} | {'yes' if r['verified'] else 'NO'} |")
	return 0 if all(r["verified"] for r in results.values()) else 1


if __name__ == "__main__":
	try:
		sys.exit(main())
	except WorkerFailed as failed:
		sys.exit(str(failed))
