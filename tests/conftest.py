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
