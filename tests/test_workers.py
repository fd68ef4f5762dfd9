"""A dead worker is seen from any host (press_selfhosted/workers.py), through RQ's own records
on the real Redis `make test` starts: real RQ workers, each on a host name of its own (a UTS
namespace), run jobs; one is SIGKILLed with its work horse, as when its container dies. A poll
run by a third worker, on a host name of its own as Press's polls run in queue-short and the
scheduler, then finds the job's worker gone; a slow job on a live worker is never taken for
dead."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import service_env

from press_selfhosted.workers import gone

HERE = Path(__file__).resolve().parent
# A worker's registration outlives it by its heartbeat's TTL: its monitoring interval (5 s
# here) plus the 60 s RQ adds.
EXPIRY = 5 + 60


@pytest.fixture
def redis():
	from redis import Redis

	host, port = service_env("PRESS_SELFHOSTED_TEST_REDIS").rsplit(":", 1)
	connection = Redis(host=host, port=int(port))
	yield connection
	connection.close()


@pytest.fixture
def workers(redis):
	"""start(queue, hostname) → the worker process; every one is killed afterwards."""
	started = []
	url = f"redis://{redis.connection_pool.connection_kwargs['host']}:{redis.connection_pool.connection_kwargs['port']}"

	def start(queue: str, hostname: str | None) -> subprocess.Popen:
		argv = [sys.executable, "-m", "rq_worker", url, queue, hostname or "-"]
		if hostname:
			argv = ["unshare", "--uts", *argv]
		process = subprocess.Popen(argv, cwd=HERE, start_new_session=True, env={**os.environ, "PYTHONPATH": str(HERE)})
		started.append(process)
		return process

	yield start
	for process in started:
		try:
			os.killpg(process.pid, signal.SIGKILL)
		except ProcessLookupError:
			pass
		process.wait(timeout=30)


def enqueue_started(redis, queue: str, seconds: float):
	from rq import Queue

	job = Queue(queue, connection=redis).enqueue("rq_worker.jobs.slow", seconds, job_timeout=600)
	deadline = time.monotonic() + 60
	while True:
		job.refresh()
		if job.get_status() == "started" and job.worker_name:
			return job
		assert time.monotonic() < deadline, f"the job never started: {job.get_status()}"
		time.sleep(0.2)


def poll_on(redis, queue: str, job_id: str) -> str | None:
	"""A poll run by the worker of `queue`, on that worker's host: what it finds of job_id."""
	from rq import Queue

	poll = Queue(queue, connection=redis).enqueue("rq_worker.jobs.poll", job_id, result_ttl=60)
	deadline = time.monotonic() + 30
	while True:
		poll.refresh()
		if poll.is_finished:
			return poll.return_value()
		assert not poll.is_failed and time.monotonic() < deadline, poll.exc_info
		time.sleep(0.1)


def test_a_worker_killed_on_another_host_is_seen_gone_by_a_poll_elsewhere_and_a_slow_live_one_never_is(redis, workers):
	tag = f"t{os.getpid()}"
	dying = workers(f"{tag}-a", f"{tag}-host-a")
	workers(f"{tag}-b", f"{tag}-host-b")
	workers(f"{tag}-poll", f"{tag}-host-c")  # where Press's polls run (queue-short, the scheduler)
	doomed = enqueue_started(redis, f"{tag}-a", 600)
	slow = enqueue_started(redis, f"{tag}-b", 600)
	assert poll_on(redis, f"{tag}-poll", doomed.id) is None and poll_on(redis, f"{tag}-poll", slow.id) is None

	# The whole worker, horse and all, as when its container is killed.
	os.killpg(dying.pid, signal.SIGKILL)
	dying.wait(timeout=30)
	killed = time.monotonic()
	why = None
	while why is None:
		assert time.monotonic() - killed < EXPIRY + 30, "the dead worker was never seen gone"
		assert poll_on(redis, f"{tag}-poll", slow.id) is None, "a live, slow worker was taken for dead"
		why = poll_on(redis, f"{tag}-poll", doomed.id)
		time.sleep(1)
	assert f"{tag}-a-worker stopped sending heartbeats" in why
	# Seen through its expired registration, not the moment it died: another host cannot ask.
	assert time.monotonic() - killed > 5
	assert poll_on(redis, f"{tag}-poll", slow.id) is None and gone(redis, slow.id) is None


def test_a_live_worker_whose_pid_this_host_cannot_see_keeps_its_job(redis, workers):
	"""Two containers may share a host name in different process namespaces: a worker's
	recorded pid on "this" host name says nothing here. Its heartbeats alone speak for it."""
	from rq.worker import Worker

	tag = f"t{os.getpid()}"
	workers(f"{tag}-e", f"{tag}-host-e")
	job = enqueue_started(redis, f"{tag}-e", 600)
	record = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=redis)
	unused = next(pid for pid in range(4_000_000, 4_100_000) if not Path(f"/proc/{pid}").exists())
	redis.hset(record.key, mapping={"hostname": socket.gethostname(), "pid": unused})
	for _ in range(10):
		assert gone(redis, job.id) is None
		time.sleep(0.5)


def test_a_job_whose_work_horse_died_or_whose_worker_shut_down_is_over_and_a_waiting_one_is_not(redis, workers):
	from rq import Queue, Worker

	tag = f"t{os.getpid()}"
	worker = workers(f"{tag}-d", f"{tag}-host-d")
	job = enqueue_started(redis, f"{tag}-d", 600)
	# The horse (the worker's child that runs the job) dies; the worker lives and records it.
	# (`unshare` without --fork execs the worker: its process is the worker's own.)
	horse = int(Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()[0])
	os.kill(horse, signal.SIGKILL)
	deadline = time.monotonic() + 60
	while (why := gone(redis, job.id)) is None:
		assert time.monotonic() < deadline
		time.sleep(0.5)
	assert "ended as failed" in why
	# A worker that recorded its shutdown while RQ still shows it on a job of ours.
	job = enqueue_started(redis, f"{tag}-d", 600)
	assert gone(redis, job.id) is None
	Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=redis).register_death()
	assert gone(redis, job.id) == f"its worker {job.worker_name} shut down"
	waiting = Queue(f"{tag}-nobody", connection=redis).enqueue("rq_worker.jobs.slow", 1)
	assert gone(redis, waiting.id) is None
	assert "no record" in gone(redis, "no-such-job-" + tag)
