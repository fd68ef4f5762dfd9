import os
import socket
import subprocess
from pathlib import Path

import pytest

from press_selfhosted import exceptions as exc
from press_selfhosted.engine import Engine
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


# The busybox image `make test` makes from a root filesystem (no registry to pull from), and the
# variables naming the two engines it starts.
TEST_IMAGE = "erp-saas-cloud-c16-test/busybox:1"
ENGINES = {"podman": "PRESS_SELFHOSTED_TEST_PODMAN", "docker": "PRESS_SELFHOSTED_TEST_DOCKER"}


def engine_url(kind: str) -> str:
	return service_env(ENGINES[kind])


def test_engine(kind: str) -> Engine:
	"""The engine `make test` started, with the test image in it."""
	engine = Engine.connect(engine_url(kind))
	assert engine.kind == kind
	try:
		engine.image_id(TEST_IMAGE)
	except exc.ImageMissing:
		engine.import_rootfs(service_env("PRESS_SELFHOSTED_TEST_ROOTFS"), TEST_IMAGE)
	return engine


test_engine.__test__ = False  # a helper, not a test


@pytest.fixture(params=sorted(ENGINES), scope="module")
def engine(request) -> Engine:
	"""Each engine in turn: the test runs once on Podman, once on Docker."""
	return test_engine(request.param)


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


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
