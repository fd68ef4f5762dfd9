"""A local agent job as plain data: its steps as they run, and the JSON Press reads from an
agent's `GET /agent/jobs/<id>` (press/agent.py, agent_job.py `handle_polled_job`).

A runner gets a `Recorder` and wraps each of Press's steps in `with recorder.step(name) as
step:`. The step records the commands it runs and their output with every secret masked; an
exception fails the step and the job, with the traceback, and stops the run. `on_change`
sees the job after every change, so its store (the Frappe side) shows progress as it happens.
"""

from __future__ import annotations

import time
import traceback as tb
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from press_selfhosted.exceptions import ExecutorError

MASK = "********"
PENDING, RUNNING, SUCCESS, FAILURE = "Pending", "Running", "Success", "Failure"


def now() -> datetime:
	return datetime.now(timezone.utc)


def agent_time(moment: datetime | None) -> str | None:
	"""The agent's format: UTC, no offset (Press reads it as a naive UTC datetime)."""
	return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f") if moment else None


def agent_duration(start: datetime | None, end: datetime | None) -> str | None:
	"""HH:MM:SS.ffffff, as the agent prints a timedelta."""
	if not (start and end):
		return None
	micros = int((end - start).total_seconds() * 1_000_000)
	seconds, micros = divmod(micros, 1_000_000)
	return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{micros:06d}"


@dataclass
class Step:
	name: str
	status: str = RUNNING
	start: datetime | None = None
	end: datetime | None = None
	output: list[str] = field(default_factory=list)
	commands: list[dict] = field(default_factory=list)
	traceback: str = ""
	data: dict = field(default_factory=dict)
	# What the step returns to Press as its data, when Press reads it as is (the agent's
	# step return value: a list of clone outputs); None: `data` with output and traceback.
	result: list | None = None
	# A step whose success returns nothing (JSON null), as the agent's Run Validations: Press
	# reads any data of it, once the job has failed, as the validation's own failure.
	returns_nothing: bool = False


@dataclass
class Job:
	id: int
	name: str
	agent_job_id: str | None = None
	status: str = PENDING
	enqueue: datetime = field(default_factory=now)
	start: datetime | None = None
	end: datetime | None = None
	steps: list[Step] = field(default_factory=list)
	data: dict = field(default_factory=dict)
	output: str = ""
	traceback: str = ""

	def to_agent(self) -> dict:
		"""The agent's polled JSON. `data` is always a dict: the result, or on failure
		{traceback, output}, since Press calls job["data"].get(...)."""
		# A job that publishes its own "output" while it runs (a build) keeps it when it fails.
		data = self.data if self.status != FAILURE else {"output": self.output, **self.data, "traceback": self.traceback}
		return {
			"id": self.id,
			"name": self.name,
			"status": self.status,
			"agent_job_id": self.agent_job_id,
			"enqueue": agent_time(self.enqueue),
			"start": agent_time(self.start),
			"end": agent_time(self.end),
			"duration": agent_duration(self.start, self.end),
			"data": data,
			"commands": [c for s in self.steps for c in s.commands],
			"steps": [
				{
					"id": i + 1,
					"name": s.name,
					"status": s.status,
					"start": agent_time(s.start),
					"end": agent_time(s.end),
					"duration": agent_duration(s.start, s.end),
					"data": None if s.returns_nothing and s.status == SUCCESS else s.result if s.result is not None
					else {**s.data, "output": "\n".join(s.output), "traceback": s.traceback},
					"commands": s.commands,
				}
				for i, s in enumerate(self.steps)
			],
		}

	def to_dict(self) -> dict:
		"""JSON-safe, for the job's store."""
		return _jsonable(asdict(self))

	@classmethod
	def from_dict(cls, raw: dict) -> Job:
		raw = {k: _moment(k, v) for k, v in raw.items()}
		raw["steps"] = [Step(**{k: _moment(k, v) for k, v in s.items()}) for s in raw.get("steps", [])]
		return cls(**raw)


_MOMENTS = ("enqueue", "start", "end")


def _jsonable(value):
	if isinstance(value, datetime):
		return value.isoformat()
	if isinstance(value, dict):
		return {k: _jsonable(v) for k, v in value.items()}
	if isinstance(value, list):
		return [_jsonable(v) for v in value]
	return value


def _moment(key: str, value):
	return datetime.fromisoformat(value) if key in _MOMENTS and isinstance(value, str) else value


class Recorder:
	"""Runs a job's steps; see the module's doc. `secrets` are masked wherever they appear."""

	def __init__(self, job: Job, on_change: Callable[[Job], object] = lambda job: None, secrets: Sequence[str] = (),
			steps: Sequence[str] | None = None):
		self.job = job
		self.on_change = on_change
		self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
		# The steps the job's type declares (job_types): a step of another name is a bug.
		self.steps = None if steps is None else tuple(steps)

	def add_secret(self, secret: str) -> None:
		"""A secret made during the run (a temporary password), masked from now on."""
		self.secrets = sorted({*self.secrets, secret}, key=len, reverse=True)

	def mask(self, text: str) -> str:
		for secret in self.secrets:
			text = text.replace(secret, MASK)
		return text

	def start(self) -> None:
		self.job.status, self.job.start = RUNNING, now()
		self.on_change(self.job)

	def finish(self, data: dict | None = None) -> None:
		self.job.status, self.job.end = SUCCESS, now()
		self.job.data = data or {}
		self.on_change(self.job)

	def fail(self, error: BaseException) -> None:
		self.job.status, self.job.end = FAILURE, now()
		self.job.traceback = self.mask("".join(tb.format_exception(error)))
		self.job.output = self.mask(str(error))
		self.on_change(self.job)

	@contextmanager
	def step(self, name: str) -> Iterator[StepLog]:
		if self.steps is not None and name not in self.steps:
			raise ExecutorError(f"{self.job.name} declares no step {name!r}")
		step = Step(name, start=now())
		self.job.steps.append(step)
		self.on_change(self.job)
		log = StepLog(self, step)
		try:
			yield log
		except BaseException as e:
			step.status, step.end = FAILURE, now()
			step.traceback = self.mask("".join(tb.format_exception(e)))
			step.output.append(self.mask(str(e)))
			self.on_change(self.job)
			raise
		step.status, step.end = SUCCESS, now()
		self.on_change(self.job)


class StepLog:
	"""What a step tells Press: lines of output and the commands it ran (masked)."""

	def __init__(self, recorder: Recorder, step: Step):
		self._recorder, self._step = recorder, step
		self._shown = 0.0

	def mask(self, text: str) -> str:
		return self._recorder.mask(text)

	@property
	def result(self) -> list | None:
		return self._step.result

	@result.setter
	def result(self, value: list) -> None:
		self._step.result = [self.mask(v) if isinstance(v, str) else v for v in value]

	def returns_nothing(self) -> None:
		self._step.returns_nothing = True

	def say(self, text: str) -> None:
		self._step.output.append(self._recorder.mask(text))

	@contextmanager
	def timed(self, part: str) -> Iterator[None]:
		"""Records how long a part of the step took in its data (`seconds`), for the benchmark
		and the desk's job view alike."""
		started = time.perf_counter()
		try:
			yield
		finally:
			self._step.data.setdefault("seconds", {})[part] = round(time.perf_counter() - started, 4)

	def progress(self, part: str, done: int, total: int) -> None:
		"""How far a long part of the step is (bytes done of total), in the step's data; the
		job's store sees it at most once a second, and when the part completes."""
		self._step.data.setdefault("progress", {})[part] = {"done": done, "total": total}
		self.changed(force=done >= total)

	def changed(self, *, force: bool = False) -> None:
		"""Tells the job's store, at most once a second unless `force`."""
		moment = time.monotonic()
		if force or moment - self._shown >= 1.0:
			self._shown = moment
			self._recorder.on_change(self._recorder.job)

	def command(self, argv: Sequence[str]) -> Command:
		"""A command as it starts: its output grows in the step line by line as it runs (what
		Press shows live with realtime job updates), masked; `finish` records how it ended."""
		entry = {"command": self.mask(" ".join(argv)), "output": "", "returncode": None, "directory": None}
		self._step.commands.append(entry)
		self.changed(force=True)
		return Command(self, entry)


class Command:
	"""One command of a step, while it runs and once it ended."""

	def __init__(self, log: StepLog, entry: dict):
		self._log, self._entry = log, entry

	def line(self, stream: str, text: str) -> None:
		self._entry["output"] += self._log.mask(text) + "\n"
		self._log.changed()

	def show(self, output: str) -> None:
		"""The command's output so far, whole (a build's JSON, which Press parses live)."""
		self._entry["output"] = self._log.mask(output)

	def finish(self, output: str, exit_code: int) -> None:
		self._entry.update(output=self._log.mask(output), returncode=exit_code)
		if output:
			self._log.say(output.rstrip("\n"))
		self._log.changed(force=True)
