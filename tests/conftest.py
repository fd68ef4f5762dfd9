import os
import subprocess
from pathlib import Path

import pytest

from press_selfhosted.pki import CertificateAuthority

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
	return CertificateAuthority.create(tmp_path / "ca")


def openssl(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
	"""Runs the openssl CLI (argv, no shell); the result carries returncode and text output."""
	return subprocess.run(["openssl", *args], input=input, capture_output=True, text=True, timeout=60)


def write(path: Path, text: str) -> Path:
	path.write_text(text)
	return path


def service_env(name: str) -> str:
	"""A variable that `make test` sets for a service it started; fails the test without it."""
	value = os.environ.get(name)
	if not value:
		pytest.fail(f"{name} is not set: run the tests through `make test`")
	return value


@pytest.fixture(scope="module")
def credentials() -> dict:
	"""The key and region of the Garage that `make test` starts, as Store takes them."""
	folder = Path(service_env("PRESS_SELFHOSTED_TEST_S3_DIR"))
	return Credentials({
		"access_key": (folder / "access_key").read_text(),
		"secret_key": (folder / "secret_key").read_text(),
		"region": service_env("PRESS_SELFHOSTED_TEST_S3_REGION"),
	})


class Credentials(dict):
	"""Store's keyword arguments; the secret stays out of pytest's failure reports."""

	def __repr__(self):
		return repr({k: "<redacted>" if k == "secret_key" else v for k, v in self.items()})
