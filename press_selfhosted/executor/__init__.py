"""The local executor: Press's agent, answered in-process for servers that are container
engines. Each job Press sends is declared once beside its runner (`job_types`); `routes`
matches a request to it, checked; a runner takes plain data (the platform it runs against,
the checked request) and reports Press's own job steps through a `Recorder` (`jobs`).
Nothing here imports frappe: the Press glue is `press_selfhosted.integrations.agent`, and the
demo and the tests call the same runners.

	route = routes.job("POST", "benches", request)
	job = execute(platform, Job(1, route.name), route)
	job.to_agent()   # what Press's poller reads
"""

from __future__ import annotations

from collections.abc import Callable

from press_selfhosted.executor.job_types import Route
from press_selfhosted.executor.jobs import Job, Recorder
from press_selfhosted.executor.platform import Platform


def execute(platform: Platform, job: Job, route: Route, on_change: Callable[[Job], object] = lambda job: None) -> Job:
	"""Runs the job to its end: Success with the runner's data, or Failure with the failing
	step's output and traceback (secrets masked). Never raises for the job's own failure."""
	rec = Recorder(job, on_change, route.secrets, route.job_type.steps)
	rec.start()
	try:
		data = route.run(platform, rec)
	except Exception as e:
		rec.fail(e)
	else:
		rec.finish(data)
	return job
