"""Each of Press's Agent Job Types the executor runs, declared once, beside its runner:

	@job_type("Backup Site", "POST", "benches/{bench}/sites/{site}/backup",
		steps=("Backup Site", "Upload Site Backup to S3"), secrets=OFFSITE_SECRETS, check=check_backup)
	def backup_site(platform, rec, *, bench, site, offsite, with_files, keep) -> dict: ...

Everything else comes from the declarations: the route table (`find`), the values a job's
output masks and the fields its stored request hides (`secret_values`, `hide`), and the steps
Press matches by name (a runner's `rec.step` of a step it did not declare is refused).

A path's `{names}` are checked by name (`PARAMETERS`) and handed to `check(request, **names)`,
which returns the runner's keyword arguments: whatever a runner uses of a request is checked
there, when the route is made and before the job is stored, so Press gets the agent's 4xx at
delivery rather than a job that fails later. A job without `check` uses no request field.

A secret is named by its path in the request: `a/b` (nested objects), `*` for every item of a
list, and `url@password` for the password of a URL (a clone URL's token).
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from press_selfhosted.exceptions import ExecutorError, ValidationError
from press_selfhosted.executor.jobs import MASK
from press_selfhosted.names import check_site

BENCH_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
APP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SSH_USER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
# An image reference and a tag, as engines allow them (Press tags builds with the Deploy
# Candidate Build's name).
IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:@-]{0,254}$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def check_bench(name: object) -> str:
	if not isinstance(name, str) or not BENCH_NAME.match(name):
		raise ValidationError(f"a bench name is 1-48 lower-case letters, digits and hyphens, got {name!r}")
	return name


def check_app(name: object) -> str:
	if not isinstance(name, str) or not APP_NAME.match(name):
		raise ValidationError(f"an app name is a Python identifier in lower case, got {name!r}")
	return name


def check_image(image: object, what: str = "an image") -> str:
	"""An image reference: repository (with its registry) and tag."""
	if not isinstance(image, str) or not IMAGE.match(image) or ".." in image:
		raise ValidationError(f"{what} must name an image, got {image!r:.80}")
	if ":" in image.rsplit("/", 1)[-1]:
		check_tag(image.rsplit(":", 1)[1])
	return image


def check_tag(tag: object) -> str:
	if not isinstance(tag, str) or not TAG.match(tag):
		raise ValidationError(f"not an image tag: {tag!r:.80}")
	return tag


def check_upstream(name: object) -> str:
	"""An upstream: the app server's address as Press names it (an IP, or a host name)."""
	if isinstance(name, str):
		try:
			return str(ipaddress.ip_address(name))
		except ValueError:
			pass
	return check_site(name)


def check_proxy_user(name: object) -> str:
	if not isinstance(name, str) or not SSH_USER.match(name):
		raise ValidationError(f"a proxy user is named after its bench, got {name!r}")
	return name


# What each `{name}` of a path is.
PARAMETERS: dict[str, Callable[[object], str]] = {
	"bench": check_bench, "site": check_site, "app": check_app, "host": check_site, "domain": check_site,
	"upstream": check_upstream, "user": check_proxy_user,
}

Check = Callable[..., dict]
Runner = Callable[..., dict]
# (platform, the job as its store last saw it, the runner's arguments) → what was removed.
Undo = Callable[..., list[str]]


@dataclass(frozen=True)
class JobType:
	name: str
	method: str
	path: str
	steps: tuple[str, ...]
	secrets: tuple[str, ...]
	runner: Runner
	check: Check | None = None
	# What undoes the half of its work a job leaves when its worker dies mid-run (nothing is
	# left to do it in the runner's own cleanup); None: nothing of it can be half-made.
	undo: Undo | None = None

	def match(self, method: str, parts: list[str]) -> dict[str, str] | None:
		"""The path's named parts, if `method parts` is this job's; None otherwise."""
		pattern = self.path.split("/")
		if method != self.method or len(parts) != len(pattern):
			return None
		named = {}
		for want, part in zip(pattern, parts):
			if want.startswith("{"):
				named[want[1:-1]] = part
			elif want != part:
				return None
		return named


DECLARED: dict[str, JobType] = {}


def job_type(name: str, method: str, path: str, *, steps: tuple[str, ...], secrets: tuple[str, ...] = (),
		check: Check | None = None, undo: Undo | None = None) -> Callable[[Runner], Runner]:
	"""Declares the runner below it as Press's job `name`, reached by `method path`."""
	for part in path.split("/"):
		if part.startswith("{") and part[1:-1] not in PARAMETERS:
			raise ExecutorError(f"{name}: {part} is not a known path parameter")

	def declare(runner: Runner) -> Runner:
		if name in DECLARED:
			raise ExecutorError(f"job type {name} is declared twice")
		DECLARED[name] = JobType(name, method, path, tuple(steps), tuple(secrets), runner, check, undo)
		return runner

	return declare


@dataclass(frozen=True)
class Route:
	"""A request matched to its job type and checked: what the runner is called with, and the
	values to mask in everything the job shows."""

	job_type: JobType
	# Hold the request's secrets: kept out of the repr, as out of everything else shown.
	arguments: dict = field(repr=False)
	secrets: tuple[str, ...] = field(repr=False)

	@property
	def name(self) -> str:
		return self.job_type.name

	def run(self, platform, recorder) -> dict:
		return self.job_type.runner(platform, recorder, **self.arguments)

	def undo(self, platform, job) -> list[str]:
		"""Undoes what the job, whose worker died, left half-made; what was removed."""
		return self.job_type.undo(platform, job, **self.arguments) if self.job_type.undo else []


def find(method: str, parts: list[str], data: object) -> Route | None:
	for declared in DECLARED.values():
		named = declared.match(method, parts)
		if named is None:
			continue
		checked = {key: PARAMETERS[key](value) for key, value in named.items()}
		request = {} if data is None else data
		arguments = declared.check(request, **checked) if declared.check else checked
		return Route(declared, arguments, secret_values(declared.secrets, request))
	return None


# Request bodies

def body(request: object) -> dict:
	"""The request as an object (Press sends one to every job but the wildcards')."""
	if not isinstance(request, dict):
		raise ValidationError(f"the request must be an object, got {type(request).__name__}")
	return request


def flag(request: dict, key: str) -> bool:
	value = request.get(key)
	if value is None:
		return False
	if not isinstance(value, bool) and value not in (0, 1):
		raise ValidationError(f"{key} is true or false, got {value!r}")
	return bool(value)


def obj(request: dict, key: str) -> dict:
	value = request.get(key)
	if value is None:
		return {}
	if not isinstance(value, dict):
		raise ValidationError(f"{key} must be an object, got {type(value).__name__}")
	return value


def names(request: dict, key: str, check: Callable[[object], str]) -> list[str]:
	value = request.get(key)
	if value is None:
		return []
	if not isinstance(value, list):
		raise ValidationError(f"{key} must be a list, got {type(value).__name__}")
	return [check(item) for item in value]


def text(request: dict, key: str, *, required: bool = False, limit: int = 4096) -> str | None:
	value = request.get(key)
	if value is None or value == "":
		if required:
			raise ValidationError(f"{key} is required")
		return None
	if not isinstance(value, str) or len(value) > limit or "\x00" in value:
		raise ValidationError(f"{key} must be text of at most {limit} characters")
	return value


# Secrets

def _walk(data: object, segments: list[str], at: tuple = ()) -> Iterator[tuple[tuple, object]]:
	"""(path, value) of every value the segments name in data."""
	if not segments:
		yield at, data
		return
	head, rest = segments[0], segments[1:]
	if head == "*":
		if isinstance(data, list):
			for i, item in enumerate(data):
				yield from _walk(item, rest, (*at, i))
	elif isinstance(data, dict) and head in data:
		yield from _walk(data[head], rest, (*at, head))


def _named(patterns: tuple[str, ...], data: object) -> Iterator[tuple[tuple, str, bool]]:
	"""(path, secret, whether it is a URL's password) of each secret present in data."""
	for pattern in patterns:
		field, _, part = pattern.partition("@")
		for path, value in _walk(data, field.split("/")):
			if value is None or value == "" or isinstance(value, dict | list):
				continue
			if part == "password":
				try:
					secret = urlsplit(value).password if isinstance(value, str) else None
				except ValueError:
					raise ValidationError(f"{field} is not a URL") from None
				if secret:
					yield path, secret, True
			else:
				yield path, str(value), False


def secret_values(patterns: tuple[str, ...], data: object) -> tuple[str, ...]:
	return tuple(secret for _, secret, _ in _named(patterns, data))


def hide(patterns: tuple[str, ...], data: object) -> tuple[object, list]:
	"""(the request with every secret masked, [[path, original value]…]) for the job's store:
	the first is shown to whoever reads the job, the second kept in a Password field."""
	shown, hidden = copy.deepcopy(data), []
	for path, secret, in_url in list(_named(patterns, data)):
		if any(tuple(seen) == path for seen, _ in hidden):
			continue  # a URL named twice
		original = _get(data, path)
		hidden.append([list(path), original])
		_set(shown, path, _mask_url(original) if in_url else MASK)
	return shown, hidden


def reveal(shown: object, hidden: list) -> object:
	"""The request as Press sent it, from what `hide` returned."""
	data = copy.deepcopy(shown)
	for path, value in hidden:
		_set(data, tuple(path), value)
	return data


def _mask_url(url: str) -> str:
	parts = urlsplit(url)
	host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
	netloc = f"{parts.username}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
	return urlunsplit(parts._replace(netloc=netloc))


def _get(data, path: tuple):
	for key in path:
		data = data[key]
	return data


def _set(data, path: tuple, value) -> None:
	for key in path[:-1]:
		data = data[key]
	data[path[-1]] = value


# Press's steps with nothing to do on this platform: each succeeds saying why, said once here.
TRAEFIK_RELOADS = "Traefik watches its configuration directory and reloads by itself; the route was read back from its API"
NO_NGINX = "no nginx: Traefik serves each site from the route the proxy's jobs write"
NO_SSH = "no SSH proxy on this platform: a bench is reached through its container engine"
NOTHING_TO_DO = {
	"Bench Setup NGINX": NO_NGINX,
	"Reload NGINX": TRAEFIK_RELOADS,
	"Generate Docker Compose File": "no compose file: the executor runs the bench's container through the engine's API",
	"Wait for Enqueued Jobs": "a site's background jobs run in its bench's own queue, which the container keeps",
	"Add Upstream Directory": "Traefik routes each site to its own bench: no upstream to prepare",
	"Rename Host Directory": "no host directory: certificates live beside the route",
	"Rename Site in Host Directory": "no host directory: nothing to rename",
	"Add Wildcard Hosts to Proxy": "the platform's wildcard certificate is Traefik's default certificate, kept by the TLS integration",
	"Add User to Proxy": NO_SSH,
	"Add Certificate to User": NO_SSH,
	"Add Principal to User": NO_SSH,
	"Remove User from Proxy": NO_SSH,
	"Remove Principal from User": NO_SSH,
}


def nothing_to_do(recorder, *steps: str) -> None:
	"""Runs each step, which succeeds saying why there is nothing to do here."""
	for name in steps:
		with recorder.step(name) as step:
			step.say(NOTHING_TO_DO[name])
