"""A worker that dies mid-job (test_executor's killed-mid-New-Site test): `python dying_runner.py
CONFIG.json` runs one job through the executor, as a worker would, writing the job's state after
every change to CONFIG's `state` file, and SIGKILLs itself the moment a command of the step
CONFIG names has finished: the step's own cleanup never runs, as when a worker is killed."""

import json
import os
import signal
import sys
from pathlib import Path

from press_selfhosted.engine import Engine
from press_selfhosted.executor import execute, routes
from press_selfhosted.executor.jobs import Job
from press_selfhosted.executor.platform import Database, Platform
from press_selfhosted.proxy import Proxy

config = json.loads(Path(sys.argv[1]).read_text())
tls = tuple(config["tls"]) if config["tls"] else None
platform = Platform(engine=Engine.connect(config["engine"], tls=tls), database=Database(**config["database"]),
	proxy=Proxy(config["traefik_dir"], config["traefik_api"]), dns=None, address="127.0.0.1", network=config["network"],
	owner=config["owner"], timeout=90)
state = Path(config["state"])


def on_change(job: Job) -> None:
	partial = state.with_suffix(".partial")
	partial.write_text(json.dumps(job.to_dict()))
	partial.replace(state)
	step = job.steps[-1] if job.steps else None
	if step and step.name == config["die_in"] and step.commands and step.commands[-1]["returncode"] is not None:
		os.kill(os.getpid(), signal.SIGKILL)


route = routes.job(config["method"], config["path"], config["body"])
execute(platform, Job(config["job"], route.name), route, on_change)
sys.exit("the job ended without the worker dying")
