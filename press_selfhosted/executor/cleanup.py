"""Press's Cleanup Unused Files (`POST server/cleanup`: daily, and with `force` when a server is
short of disk) on an engine server, in the agent's three steps. What may go is narrower than
the agent's `docker system prune -af`, as the engine may run more than this platform:

- Remove Archived Benches: Archive Bench already removed each archived bench's container and
  volumes. Volumes of this platform's benches that have no container are named, not removed:
  a bench being made has its volumes before its container.
- Remove Temporary Files: the executor's own folders (builds, backups) that a dead job left
  behind, older than any job may run.
- Remove Unused Docker Artefacts: images no container uses that are either untagged or only
  builds from Press's registry (pulled again when a bench needs one).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from press_selfhosted.engine import LABEL_BENCH, LABEL_KIND, LABEL_OWNER
from press_selfhosted.exceptions import EngineError, ValidationError
from press_selfhosted.executor import backup, builder
from press_selfhosted.executor.bench import VOLUMES, volume_name
from press_selfhosted.executor.job_types import body, job_type
from press_selfhosted.executor.jobs import Recorder, StepLog
from press_selfhosted.executor.platform import Platform

# The folders the executor's jobs make in the system's temporary directory.
TEMPORARY_PREFIXES = (builder.WORK_PREFIX, backup.WORK_PREFIX)
# A job runs at most two hours (its queue's timeout): a folder older than three is a dead job's.
TEMPORARY_AGE = 3 * 3600


def check(request: object) -> dict:
	force = body(request).get("force", False)
	if not isinstance(force, bool):
		raise ValidationError(f"force is true or false, got {force!r}")
	return {"force": force}


@job_type("Cleanup Unused Files", "POST", "server/cleanup", check=check,
	steps=("Remove Archived Benches", "Remove Temporary Files", "Remove Unused Docker Artefacts"))
def cleanup_unused_files(platform: Platform, rec: Recorder, *, force: bool) -> dict:
	with rec.step("Remove Archived Benches") as step:
		orphans = _volumes_without_bench(platform)
		step.say("archived benches left nothing: Archive Bench removes a bench's container and volumes")
		if orphans:
			step.say(f"volumes of benches without a container, kept (a bench being made has them first): {', '.join(orphans)}")
	with rec.step("Remove Temporary Files") as step:
		files = remove_temporary_files(Path(tempfile.gettempdir()), step)
	with rec.step("Remove Unused Docker Artefacts") as step:
		images = remove_unused_images(platform, step)
		if force:
			step.say("force: the same rules; nothing in use, nor a running job's folder, is ever removed")
	return {"files": files[:100], "images": images[:100]}


def _volumes_without_bench(platform: Platform) -> list[str]:
	ours = [f"{LABEL_OWNER}={platform.owner}", f"{LABEL_KIND}=bench"]
	benches = {c.labels[LABEL_BENCH] for c in platform.engine.list(ours) if LABEL_BENCH in c.labels}
	with_container = {volume_name(platform, b, kind) for b in benches for kind in VOLUMES}
	return [v for v in platform.engine.list_volumes(ours) if v not in with_container]


def remove_temporary_files(folder: Path, step: StepLog) -> list[dict]:
	"""The executor's folders in `folder` older than TEMPORARY_AGE: [{file, size}] removed."""
	now = time.time()
	removed = []
	for entry in sorted(folder.iterdir()):
		if not entry.name.startswith(TEMPORARY_PREFIXES) or entry.is_symlink() or not entry.is_dir():
			continue
		if now - entry.stat().st_mtime <= TEMPORARY_AGE:
			continue
		size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file() and not f.is_symlink())
		try:
			shutil.rmtree(entry)
		except OSError as e:
			# Reported as what happened; what went of it is gone, the rest is tried again tomorrow.
			step.say(f"could not remove all of {entry}: {e}")
			continue
		removed.append({"file": entry.name, "size": size})
		step.say(f"removed {entry} ({size} bytes)")
	return removed


def remove_unused_images(platform: Platform, step: StepLog) -> list[dict]:
	"""Untagged images, and images tagged only under Press's registry, that no container uses."""
	engine = platform.engine
	used = set()
	for state in engine.list():
		try:
			used.add(engine.image_id(state.image))
		except EngineError:
			pass  # its image is gone already (removed by force elsewhere)
	registry = f"{platform.registry.rstrip('/')}/" if platform.registry else None
	removed = []
	for image, tags, size in engine.list_images():
		named = [t for t in tags if not t.startswith("<none>")]
		if image in used or (named and not (registry and all(t.startswith(registry) for t in named))):
			continue
		try:
			for reference in named or [image]:
				engine.remove_image(reference)
		except EngineError as e:
			step.say(f"kept {image[:19]} ({', '.join(named) or 'untagged'}): {e}")
			continue
		removed.append({"image": image, "tags": named, "size": size})
		step.say(f"removed {image[:19]} ({', '.join(named) or 'untagged'}, {size} bytes)")
	return removed

