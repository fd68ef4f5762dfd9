"""Garage is killed during a multipart upload and restarted (same ports and data): the upload
either completes through its retries or fails with a clear error, and either way no multipart
upload is left open and no corrupt object exists. The same during a ranged download: it
completes bit-identical through range retries, or leaves no file. One round runs in `make test`;
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


def _store(env, workdir):
	return Store(env["PRESS_SELFHOSTED_TEST_S3_ENDPOINT"], "faults", region="garage",
		access_key=(workdir / "access_key").read_text(), secret_key=(workdir / "secret_key").read_text())


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_killing_garage_mid_upload_leaves_no_open_upload_and_no_corrupt_object(garage, tmp_path, round_):
	env, workdir, kill_and_restart = garage
	store = _store(env, workdir)
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


def test_killing_garage_mid_download_is_ridden_out_by_range_retries(garage, tmp_path):
	env, workdir, kill_and_restart = garage
	store = _store(env, workdir)
	store.ensure_bucket()
	data = os.urandom(64 << 20)
	(tmp_path / "f").write_bytes(data)
	store.upload_file(tmp_path / "f", "site/files.tar")
	first_range, killed = threading.Event(), threading.Event()
	outcome = []

	def hold_until_killed(done, total):
		# Called between ranges: no further range starts until Garage is down.
		if done and not first_range.is_set():
			first_range.set()
			killed.wait(30)

	def download():
		try:
			outcome.append(store.download_file("site/files.tar", tmp_path / "back", progress=hold_until_killed))
		except exc.StorageError as e:
			outcome.append(e)

	worker = threading.Thread(target=download)
	worker.start()
	assert first_range.wait(60), "no range completed"
	restart = threading.Thread(target=kill_and_restart, kwargs={"delay": 1.0})
	restart.start()
	time.sleep(0.3)  # the kill is the first thing kill_and_restart does
	killed.set()
	restart.join(60)
	worker.join(180)
	assert not worker.is_alive() and len(outcome) == 1
	assert isinstance(outcome[0], dict), f"the range retries should ride out a short outage: {outcome[0]}"
	assert hashlib.sha256((tmp_path / "back").read_bytes()).digest() == hashlib.sha256(data).digest()
	assert not (tmp_path / "back.part").exists()
