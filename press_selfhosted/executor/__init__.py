"""The local executor: Press's agent, answered in-process for servers that are container
engines. Press's agent paths map to runners (`routes`); a runner takes plain data (the
platform it runs against, the request as Press sends it) and reports Press's own job steps
through a `Recorder` (`jobs`). Nothing here imports frappe: the Press glue is
`press_selfhosted.integrations.agent`, and the demo and the tests call the same runners.

	route = routes.job("POST", "benches", request, bench_of=lambda site: "b1")
	job = execute(platform, Job(1, route.job_type), route)
	job.to_agent()   # what Press's poller reads
"""

from __future__ import annotations

from collections.abc import Callable

from press_selfhosted.executor.jobs import Job, Recorder
from press_selfhosted.executor.platform import Platform
from press_selfhosted.executor.routes import JobRoute


def execute(platform: Platform, job: Job, route: JobRoute, on_change: Callable[[Job], object] = lambda job: None) -> Job:
	"""Runs the job to its end: Success with the runner's data, or Failure with the failing
	step's output and traceback (secrets masked). Never raises for the job's own failure."""
	rec = Recorder(job, on_change, route.secrets)
	rec.start()
	try:
		data = route.runner(platform, rec)
	except Exception as e:
		rec.fail(e)
	else:
		rec.finish(data)
	return job
