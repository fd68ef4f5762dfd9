"""The log files of a bench and of its sites, read in the bench's container through the engine
(the dashboard's Logs tab: Press asks `benches/<b>/logs[/<name>]` and
`benches/<b>/sites/<s>/logs[/<name>]`), and the container's own output for the desk."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from press_selfhosted.exceptions import ValidationError
from press_selfhosted.executor import container
from press_selfhosted.executor.bench import container_name
from press_selfhosted.executor.container import BENCH_DIR
from press_selfhosted.executor.job_types import check_bench, check_site
from press_selfhosted.executor.platform import Platform

LOG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
# What one log shows: its end, as a file of a busy bench can be gigabytes.
TAIL_BYTES = 2 << 20
# Following a container holds a worker: at most this long per request.
FOLLOW_SECONDS_MAX = 600


def _folder(bench: str, site: str | None) -> str:
	check_bench(bench)
	return f"{BENCH_DIR}/sites/{check_site(site)}/logs" if site else f"{BENCH_DIR}/logs"


def listing(platform: Platform, bench: str, site: str | None = None) -> list[dict]:
	"""[{name, size (kB), created, modified}], the newest first, as the agent lists them."""
	out = container.run(platform.engine, container_name(platform, bench), ["find", _folder(bench, site), "-maxdepth", "1",
		"-type", "f", "-printf", r"%C@ %T@ %s %f\n"], None)
	files = []
	for line in out.splitlines():
		changed, modified, size, name = line.split(" ", 3)
		files.append({"name": name, "size": int(size) / 1000, "created": _moment(changed), "modified": _moment(modified),
			"_order": float(changed)})
	files.sort(key=lambda f: f.pop("_order"), reverse=True)
	return files


def show(platform: Platform, bench: str, name: str, site: str | None = None) -> dict[str, str]:
	"""{name: text}: the log's last TAIL_BYTES; "" for a name that is not one of its logs."""
	if not isinstance(name, str) or not LOG_NAME.match(name):
		raise ValidationError(f"a log's name is a file name, got {name!r}")
	if name not in {f["name"] for f in listing(platform, bench, site)}:
		return {name: ""}
	text = container.run(platform.engine, container_name(platform, bench),
		["tail", "-c", str(TAIL_BYTES), f"{_folder(bench, site)}/{name}"], None)
	return {name: text}


def engine_output(platform: Platform, bench: str, tail: int = 200) -> str:
	"""The bench container's recent output (supervisord's and its programs' stdout and stderr)."""
	lines = platform.engine.logs(container_name(platform, check_bench(bench)), tail=tail)
	return "\n".join(text for _, text in lines)


def check_follow_seconds(seconds) -> float:
	if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 1 <= seconds <= FOLLOW_SECONDS_MAX:
		raise ValidationError(f"follow for 1 to {FOLLOW_SECONDS_MAX} seconds, got {seconds!r}")
	return float(seconds)


async def follow_output(platform: Platform, bench: str, publish: Callable[[list[str]], object], *, seconds: float,
		stopped: Callable[[], bool] = lambda: False, flush_every: float = 0.25) -> int:
	"""Follows the bench container's new output for up to `seconds`, handing the lines to
	`publish` in batches (at most every `flush_every` s, so a chatty bench is not one message a
	line), until the time is up, `stopped()` is true or the container stops. Returns how many
	lines were published. `publish` and `stopped` run on the caller's thread, never on the
	engine's, so they may use Frappe."""
	name = container_name(platform, check_bench(bench))
	seconds = check_follow_seconds(seconds)
	pending: list[str] = []
	lock = threading.Lock()
	published = 0

	def on_line(_stream: str, text: str) -> bool:  # on the engine's thread
		with lock:
			pending.append(text)
		return True

	def flush() -> None:
		nonlocal published
		with lock:
			lines = pending[:]
			pending.clear()
		if lines:
			publish(lines)
			published += len(lines)

	loop = asyncio.get_running_loop()
	deadline = loop.time() + seconds
	following = asyncio.ensure_future(platform.engine.follow_logs_async(name, on_line, tail=0))
	try:
		while not following.done() and loop.time() < deadline and not stopped():
			await asyncio.wait([following], timeout=min(flush_every, max(deadline - loop.time(), 0)))
			flush()
	finally:
		if not following.done():
			following.cancel()  # drops the follow in the engine's runtime too
			await asyncio.gather(following, return_exceptions=True)
	flush()
	if not following.cancelled():
		following.result()  # the engine's error, if the follow failed
	return published


def _moment(stamp: str) -> str:
	"""The agent's `str(datetime)` of a Unix time (UTC here: the container's clock is)."""
	return str(datetime.fromtimestamp(float(stamp), tz=timezone.utc).replace(tzinfo=None))
