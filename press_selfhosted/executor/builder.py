"""Run Remote Builder answered on the platform (press/agent.py `run_build`): the Deploy
Candidate's apps are fetched at their commits with git, the context is assembled as Press's
Dockerfile expects it (apps/<app>, apps.txt, the files Press ships beside its Dockerfile),
built through the engine's build API on the server marked for builds, and pushed to the
registry Press names. What Press's DeployCandidateBuild parses comes back as the agent gives
it: the clone step's data is the list of clone outputs, and the job's data holds
`{"output": json {"build": [lines], "push": [statuses]}, "build_failed": bool}`, kept up to
date while the build runs."""

from __future__ import annotations

import base64
import binascii
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from press_selfhosted.exceptions import BuildFailed, EngineError, StepFailed, ValidationError
from press_selfhosted.executor.job_types import body, check_app, check_image, check_tag, flag, job_type, text
from press_selfhosted.executor.jobs import Recorder, StepLog
from press_selfhosted.executor.platform import Platform

COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
URL = re.compile(r"^(https?|file|ssh)://[^\s\x00]+$")
GIT_TIMEOUT = 900.0
# The folder each build assembles its context in (Cleanup Unused Files finds dead jobs' by it).
WORK_PREFIX = "press-build-"
PLATFORMS = {"x86_64": "", "arm64": "linux/arm64"}  # the engine's own architecture needs none
HEADER = re.compile(r"^(?:Step|STEP) (\d+)/(\d+) ?: ?(.*)$")


@dataclass(frozen=True)
class Clone:
	app: str
	url: str = field(repr=False)
	commit: str
	branch: str


@dataclass(frozen=True)
class BuildRequest:
	image: str
	registry: str
	username: str | None
	password: str | None = field(repr=False)
	dockerfile: str
	clones: tuple[Clone, ...]
	params: dict
	no_cache: bool = False
	no_push: bool = False
	platform: str = "x86_64"


def check_build(d: object) -> dict:
	"""Press's request, checked before anything runs."""
	d = body(d)
	repository, tag = d.get("image_repository"), d.get("image_tag")
	if not isinstance(repository, str) or not isinstance(tag, str):
		raise ValidationError("a build needs image_repository and image_tag")
	image = check_image(f"{repository}:{check_tag(tag)}")
	if not isinstance(d.get("dockerfile"), str):
		raise ValidationError("a build needs its Dockerfile, base64-encoded")
	try:
		dockerfile = base64.b64decode(d["dockerfile"], validate=True).decode()
	except (binascii.Error, UnicodeDecodeError) as e:
		raise ValidationError(f"the dockerfile is not base64-encoded UTF-8: {e}") from None
	if not dockerfile.strip():
		raise ValidationError("a build needs a Dockerfile")
	clones = []
	if not isinstance(d.get("clone_instructions"), list):
		raise ValidationError("a build needs clone_instructions, a list")
	for raw in d["clone_instructions"]:
		if not isinstance(raw, dict):
			raise ValidationError("each clone instruction is an object")
		app, url, commit, branch = raw.get("app"), raw.get("url"), raw.get("hash"), raw.get("branch")
		check_app(app)
		if not isinstance(url, str) or not URL.match(url) or not _parses(url):
			raise ValidationError(f"{app}: a repository URL is https://, http://, file:// or ssh://")
		if not isinstance(commit, str) or not COMMIT.match(commit):
			raise ValidationError(f"{app}: a commit is 7-40 lower-case hex digits, got {commit!r}")
		if not isinstance(branch, str) or not BRANCH.match(branch) or ".." in branch:
			raise ValidationError(f"{app}: not a branch name: {branch!r}")
		clones.append(Clone(app, url, commit, branch))
	if not clones or len({c.app for c in clones}) != len(clones):
		raise ValidationError("a build needs clone instructions, one per app")
	platform = d.get("platform") or "x86_64"
	if not isinstance(platform, str) or platform not in PLATFORMS:
		raise ValidationError(f"a build platform is x86_64 or arm64, got {platform!r}")
	registry, params = d.get("registry") or {}, d.get("deploy_candidate_params") or {}
	if not isinstance(registry, dict) or not isinstance(params, dict):
		raise ValidationError("a build's registry and deploy_candidate_params are objects")
	registry = {key: text(registry, key) for key in ("url", "username", "password")}
	return {"request": BuildRequest(
		image=image, registry=registry["url"] or "", username=registry["username"], password=registry["password"], dockerfile=dockerfile, clones=tuple(clones),
		params=params, no_cache=flag(d, "no_cache"), no_push=flag(d, "no_push"), platform=platform,
	)}


def _parses(url: str) -> bool:
	"""Whether the URL's parts can be read (an IPv6 host's brackets closed, a port in range)."""
	try:
		urlsplit(url).port
	except ValueError:
		return False
	return True


@job_type("Run Remote Builder", "POST", "builder/build", check=check_build,
	# A private repository's URL carries its token (Press's `get_repo_url`); the build token and
	# the host's SSH key are not used here, and hidden all the same.
	secrets=("registry/password", "clone_instructions/*/url@password", "build_token", "ssh_keys/host/private_key"),
	steps=("Clone Repositories", "Run Validations", "Build Image", "Push Docker Image", "Cleanup Context"))
def run_build(platform: Platform, recorder: Recorder, *, request: BuildRequest) -> dict:
	output: dict[str, list] = {"build": [], "push": []}
	data = {"output": json.dumps(output), "build_failed": False}
	# From the start: Press json-loads the job's output on every poll, also when the job fails
	# before the build (a clone), and a job whose output is plain text is never finished there.
	recorder.job.data = dict(data)

	def publish(log: StepLog, *, force: bool = False) -> None:
		data["output"] = json.dumps(output)
		recorder.job.data = dict(data)
		log.changed(force=force)

	workspace = Path(tempfile.mkdtemp(prefix=WORK_PREFIX))
	try:
		context = workspace / "context"
		with recorder.step("Clone Repositories") as log:
			log.result = [_clone(clone, context / "apps" / clone.app, log) for clone in request.clones]
		with recorder.step("Run Validations") as log:
			log.returns_nothing()
			copied = _assemble(platform, request, context)
			log.say(f"context ready: {len(request.clones)} apps, the Dockerfile and {copied} files of Press's")
		with recorder.step("Build Image") as log:
			lines = BuildLines(output["build"])
			entry = log.command(["build", request.image])

			def line(stream: str, text: str) -> None:
				lines.add(text)
				entry.show(json.dumps({"build": output["build"]}))
				publish(log)

			try:
				image = platform.engine.build(context, request.image, no_cache=request.no_cache,
					platform=PLATFORMS[request.platform], on_line=line)
			except BuildFailed as e:
				# As the agent: the job succeeds with `build_failed`, and Press fails the build at
				# the instruction its parser finds in the output. A failed job would be read as a
				# failed validation (Press parses that step's data once the job has failed).
				lines.fail(str(e))
				data["build_failed"] = True
				log.say(f"the image was not built: {e}")
				publish(log, force=True)
			else:
				lines.done(image)
				publish(log, force=True)
		if not request.no_push and not data["build_failed"]:
			with recorder.step("Push Docker Image") as log:
				_push(platform, request, output["push"], lambda: publish(log))
				publish(log, force=True)
	finally:
		with recorder.step("Cleanup Context") as log:
			shutil.rmtree(workspace)  # a folder that cannot go fails the step, saying why
			log.say(f"removed {workspace}")
	return dict(data)


def _clone(clone: Clone, path: Path, log: StepLog) -> str:
	"""The app at its commit, as the agent fetches it (one commit deep); the output is what
	Press's clone parser reads: `git clone <app>` first, or `Failed to clone repository for`."""
	path.mkdir(parents=True)
	said = [f"git clone {clone.app}"]
	for argv in (["git", "init", "--quiet"], ["git", "remote", "add", "origin", clone.url],
			["git", "config", "credential.helper", ""], ["git", "fetch", "--depth", "1", "origin", clone.commit],
			["git", "checkout", "--quiet", "-B", clone.branch, "FETCH_HEAD"]):
		try:
			done = subprocess.run(argv, cwd=path, capture_output=True, text=True, timeout=GIT_TIMEOUT,
				env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(path)})
		except subprocess.TimeoutExpired:
			raise StepFailed(f"Failed to clone repository for {clone.app} - {argv[1]} took over {GIT_TIMEOUT:.0f} s") from None
		said.append(log.mask(done.stdout + done.stderr).strip())
		if done.returncode:
			raise StepFailed(f"Failed to clone repository for {clone.app} - {said[-1]}")
	head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=True).stdout
	if not head.startswith(clone.commit):
		raise StepFailed(f"Failed to clone repository for {clone.app} - fetched {head.strip()}, not {clone.commit}")
	log.say(f"{clone.app} at {clone.commit}")
	return "\n".join(s for s in said if s) + "\n"


def _assemble(platform: Platform, request: BuildRequest, context: Path) -> int:
	for clone in request.clones:
		app = context / "apps" / clone.app
		if not (app / "pyproject.toml").exists() and not (app / "requirements.txt").exists():
			raise StepFailed(f"{clone.app}: no python dependency file found (pyproject.toml or requirements.txt)")
	files = platform.build_files(request.params, request.platform)
	for relative, content in files.items():
		target = context / relative
		if context not in target.resolve().parents:
			raise ValidationError(f"a build file must stay inside the context: {relative}")
		target.parent.mkdir(parents=True, exist_ok=True)
		target.write_bytes(content)
	(context / "Dockerfile").write_text(request.dockerfile)
	(context / "apps.txt").write_text("".join(f"{c.app}\n" for c in request.clones))
	return len(files)


def _push(platform: Platform, request: BuildRequest, statuses: list, changed: Callable[[], None]) -> None:
	credentials = {"username": request.username, "password": request.password} if request.username else {}

	def status(stream: str, text: str) -> None:
		statuses.append({"status": text})
		changed()

	try:
		platform.engine.push(request.image, on_line=status, **credentials)
	except EngineError as e:
		statuses.append({"error": str(e), "errorDetail": {"message": str(e)}})
		raise StepFailed(f"the image was built but not pushed to {request.registry or 'its registry'}: {e}") from None
	# Press marks its upload step done on a "Pushed" status with an id; the engine's stream
	# names no layers, so the image's name stands for them.
	statuses.append({"id": request.image, "status": "Pushed", "progress": ""})


class BuildLines:
	"""The builder's lines in the plain progress form Press's DockerBuildOutputParser reads
	(`#N [stage-0 N/M] RUN …`, `#N <output>`, `#N DONE 1.2s`, `#N ERROR: …`, `writing
	image sha256:…`), so its build steps follow the instructions that carry `#stage-` marks."""

	def __init__(self, lines: list[str]):
		self.lines, self.step, self.started = lines, 0, time.monotonic()

	def add(self, text: str) -> None:
		if header := HEADER.match(text.strip()):
			self._close()
			self.step = int(header[1])
			self.lines.append(f"#{self.step} [stage-0 {header[1]}/{header[2]}] {header[3]}\n")
		elif self.step and text.strip():
			self.lines.append(f"#{self.step} {text.rstrip()}\n")
		elif text.strip():
			self.lines.append(text.rstrip() + "\n")

	def done(self, image: str) -> None:
		self._close()
		self.lines.append(f"#{self.step + 1} writing image {image if ':' in image else 'sha256:' + image} done\n")

	def fail(self, message: str) -> None:
		self.lines.append(f"#{self.step or 1} ERROR: {message}\n")
		self.step = 0

	def _close(self) -> None:
		if self.step:
			self.lines.append(f"#{self.step} DONE {time.monotonic() - self.started:.1f}s\n")
		self.started = time.monotonic()
