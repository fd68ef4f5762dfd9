"""What the test workers run."""

import time


def slow(seconds: float) -> str:
	time.sleep(seconds)
	return "done"


def poll(job_id: str) -> str | None:
	"""What a poll on this worker's host finds of another job's worker (press_selfhosted.workers)."""
	from rq import get_current_job

	from press_selfhosted.workers import gone

	return gone(get_current_job().connection, job_id)
