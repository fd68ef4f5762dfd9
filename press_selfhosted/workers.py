"""Whether the RQ worker running a job is alive, from RQ's own records: the job's status and
`worker_name`, and the worker's registration in Redis, which lives only as long as the worker
keeps sending heartbeats. A poll in any container or on any host reads the same records, so a
job whose worker was killed is seen as such everywhere, not only where it ran.

A worker that dies without a word keeps its registration until its heartbeat expires (RQ
gives a worker that is running a job its monitoring interval plus 60 s, 90 s by default). A
worker that is alive but slow is never taken for dead: its heartbeats go on while the job
runs. Its recorded host name and process id are not asked: two containers may share a host
name in different process namespaces, and a restarted container has the same host name and
the same pid as its dead worker had.
"""

from __future__ import annotations

# Statuses of an RQ job that has not started yet, and of one that is running.
WAITING = ("queued", "deferred", "scheduled")
STARTED = "started"


def current_job_id() -> str | None:
	"""The id of the RQ job this process runs, or None outside an RQ worker."""
	from rq import get_current_job

	job = get_current_job()
	return job.id if job else None


def gone(connection, job_id: str) -> str | None:
	"""Why the worker that ran RQ job `job_id` will not finish it, or None while it may."""
	from rq.exceptions import NoSuchJobError
	from rq.job import Job
	from rq.worker import Worker

	try:
		job = Job.fetch(job_id, connection=connection)
	except NoSuchJobError:
		return f"RQ has no record of its job {job_id} any more"
	status = str(getattr(job.get_status(), "value", job.get_status()))
	if status in WAITING:
		return None
	if status != STARTED:
		# The job's function returned, or its work horse was killed, without the job's own end
		# being recorded (only a runner that died records none).
		return f"its RQ job {job_id} ended as {status} on worker {job.worker_name or 'unknown'}"
	name = job.worker_name
	if not name:
		return None  # a worker is taking it up
	worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=connection)
	if worker is None:
		return f"its worker {name} stopped sending heartbeats"
	if worker.death_date:
		return f"its worker {name} shut down"
	current = worker.get_current_job_id()
	if current and current != job_id:
		return f"its worker {name} moved on to job {current}"
	return None

