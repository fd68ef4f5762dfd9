"""Garage is killed during a multipart upload and restarted (same ports and data): the upload
either completes through its retries or fails with a clear error, and either way no multipart
upload is left open and no corrupt object exists. One round runs in `make test`;
`make stress` runs many (PRESS_SELFHOSTED_STRESS_ROUNDS)."""

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT

from press_selfhosted import exceptions as exc
from press_selfhosted.storage import Store

sys.path.insert(0, str(ROOT / "tools"))
from services import GARAGE, RECIPES, Launcher, tcp_ready  # noqa: E402

ROUNDS = int(os.environ.get("PRESS_SELFHOSTED_STRESS_ROUNDS", "1"))


@pytest.fixture
def garage(tmp_path):
	"""A private Garage for this test only, so killing it disturbs no other test."""
	launcher = Launcher(tmp_path / "services", {"garage": RECIPES["garage"]})
	launcher.start(["garage"])
	workdir = tmp_path / "services" / "garage"
	env = launcher.env()
	restarted = []

	def kill_and_restart(delay):
		pid = restarted[-1].pid if restarted else launcher._records()[0]["pid"]
		os.kill(pid, signal.SIGKILL)
		time.sleep(delay)
		proc = subprocess.Popen([GARAGE, "-c", str(workdir / "garage.toml"), "server"], stdout=subprocess.DEVNULL,
			stderr=subprocess.DEVNULL, start_new_session=True)
		restarted.append(proc)
		port = int(env["PRESS_SELFHOSTED_TEST_S3_ENDPOINT"].rsplit(":", 1)[1])
		deadline = time.monotonic() + 30
		while not tcp_ready(port) and time.monotonic() < deadline:
			time.sleep(0.1)

	yield env, workdir, kill_and_restart
	for proc in restarted:
		proc.kill()
		proc.wait()
	launcher.stop()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_killing_garage_mid_upload_leaves_no_open_upload_and_no_corrupt_object(garage, tmp_path, round_):
	env, workdir, kill_and_restart = garage
	store = Store(env["PRESS_SELFHOSTED_TEST_S3_ENDPOINT"], "faults", region="garage",
		access_key=(workdir / "access_key").read_text(), secret_key=(workdir / "secret_key").read_text())
	store.ensure_bucket()
	data = os.urandom(48 << 20)
	(tmp_path / "f").write_bytes(data)
	first_part = threading.Event()
	outcome = []

	def upload():
		try:
			outcome.append(store.upload_file(tmp_path / "f", "site/db.sql.gz", concurrency=2,
				progress=lambda done, total: done and first_part.set()))
		except exc.StorageError as e:
			outcome.append(e)

	worker = threading.Thread(target=upload)
	worker.start()
	assert first_part.wait(60), "no part completed"
	# Short outages are ridden out by the part retries; every fourth stress round the store
	# stays down past them, so the upload fails and the abort must wait for it.
	kill_and_restart(delay=25 if round_ % 4 == 3 else 0.5 + (round_ % 4) * 0.5)
	worker.join(180)
	assert not worker.is_alive() and len(outcome) == 1

	print(f"round {round_}: " + ("completed through retries" if isinstance(outcome[0], dict) else f"failed: {outcome[0]}"))
	assert store.pending_uploads() == [], "no multipart upload is left open"
	if isinstance(outcome[0], dict):  # completed through retries
		store.download_file("site/db.sql.gz", tmp_path / "back")
		assert hashlib.sha256((tmp_path / "back").read_bytes()).digest() == hashlib.sha256(data).digest()
	else:  # failed: with a clear error, and no object
		assert str(outcome[0])
		with pytest.raises(exc.ObjectNotFound):
			store.head("site/db.sql.gz")
