"""Press's request for every job the executor runs, as press/agent.py sends it, with what kind
of value each field is: the route probe (test_job_types) sends each field bad values of its
kind, and the secrets test (test_job_secrets) puts a marker in every secret.

	path, body = request_for("New Site", names, secrets)   # plain data, as Press sends it
	for path, body, where in bad_requests("New Site", names): ...
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

# Bad values every kind of field refuses; each kind adds its own.
HUGE = 10**400  # a JSON integer no field can hold
NOT_TEXT = (HUGE, ["x"], {"x": 1})
NOT_NAME = ("../x", "a;rm -rf /", "a\x00b", "x" * 300, "$(id)", "A B", "", None, *NOT_TEXT)


@dataclass(frozen=True)
class Field:
	value: object
	bad: tuple = ()


def name(value):
	return Field(value, NOT_NAME)


def text(value, *, required: bool = False):
	return Field(value, (*NOT_TEXT, "a\x00b", *(("", None) if required else ())))


def secret(key, *, required: bool = False, checked: bool = True):
	"""A secret: `key` names it in the secrets the caller hands request_for."""
	return Field(Secret(key), text("", required=required).bad if checked else ())


def free(value):
	"""A field the executor does not use."""
	return Field(value)


def flag(value: bool = False):
	return Field(value, (HUGE, "yes", [], {}))


def integer(value: int):
	return Field(value, (HUGE, -HUGE, "1", True, 1.5e400, []))


def email(value: str):
	return Field(value, ("x", "a b@c.example", "a@b", "x" * 300 + "@a.example", *NOT_TEXT))


def url(value: str, *, required: bool = False):
	return Field(value, ("file:///etc/passwd", "x", "http://a b/c", "http://a\x00b", *NOT_TEXT,
		*(("", None) if required else ())))


def key_prefix(value: str):
	return Field(value, ("../x", "/x", "a/../../b", "a\x00b", None, *NOT_TEXT))


def obj(fields: dict, *, required: bool = False):
	return Field(fields, ("x", ["x"], HUGE, *((None,) if required else ())))


def names(values: list):
	return Field(values, ("x", HUGE, {"x": 1}, ["../x"], [HUGE], [None]))


def items(each: dict):
	"""A list of objects, each of the given fields."""
	return Field([each], ("x", HUGE, {"x": 1}, ["x"], [HUGE]))


@dataclass(frozen=True)
class Secret:
	key: str


PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY_PEM = "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n"


def _certificate():
	return obj({"fullchain.pem": text("{fullchain}"), "privkey.pem": secret("private_key"), "chain.pem": free(PEM)})


def _offsite():
	return obj({"bucket": name("{bucket}"), "path": key_prefix("{site}/2026-12-07"),
		"auth": obj({"ACCESS_KEY": text("GK1"), "SECRET_KEY": secret("offsite_secret"), "ENDPOINT_URL": url("http://127.0.0.1:9"),
			"REGION": text("garage")})})


def _user():
	return obj({"email": email("owner@acme.example"), "first_name": text("Ada"), "last_name": text("L"),
		"password": secret("user_password")})


def _bench_config(*, image_required: bool = True):
	"""Press's bench_config; Update Bench Configuration may leave the image as it is."""
	image = name("{image}") if image_required else Field("{image}", tuple(b for b in NOT_NAME if b is not None))
	return obj({"docker_image": image, "background_workers": integer(1),
		"gunicorn_workers": integer(2), "http_timeout": integer(120), "redis_cache_size": integer(256),
		"vcpu": integer(1)})


_DATABASE = {"mariadb_root_password": secret("root_password", required=True),
	"admin_password": secret("admin_password", required=True)}
_LINKS = {"database": url("http://127.0.0.1:9/backups/db.sql.gz"), "public": url("http://127.0.0.1:9/backups/files.tar"),
	"private": free(None)}

# Each job type's request: an object of fields (or, for the wildcards, a list).
REQUESTS: dict[str, object] = {
	"New Bench": {"name": name("{bench}"), "bench_config": _bench_config(), "common_site_config": obj({}),
		"registry": obj({"url": text(""), "username": text("press"), "password": secret("registry_password")})},
	"Archive Bench": {},
	"Bench Restart": {"web_only": flag()},
	"Update Bench Configuration": {"bench_config": _bench_config(image_required=False), "common_site_config": obj({})},
	"New Site": {"name": name("{new_site}"), "apps": names(["frappe"]), "config": obj({}), **_DATABASE,
		"create_user": _user(), "managed_database_config": free({})},
	"Update Site Configuration": {"config": obj({"mute_emails": 1}), "remove": names(["old_key"])},
	"Rename Site": {"new_name": name("{new_site}"), "config": obj({}), "create_user": _user()},
	"Migrate Site": {"skip_failing_patches": flag(), "activate": free(True)},
	"Install App on Site": {"name": name("frappe")},
	"Clear Cache": {},
	"Add Domain": {"domain": name("{domain}")},
	"Remove Domain": {},
	"Activate Site": {},
	"Deactivate Site": {},
	"Create User": {"email": email("owner@acme.example"), "first_name": text("Ada"), "last_name": text("L"),
		"password": secret("user_password")},
	"Reinstall Site": {**_DATABASE},
	"Backup Site": {"offsite": _offsite(), "with_files": flag(True), "keep_files_locally_after_offsite_backup": flag()},
	"Archive Site": {"mariadb_root_password": secret("root_password", required=True), "offsite": _offsite(),
		"force": free(False)},
	"Uninstall App from Site": {"offsite": _offsite()},
	"Restore Site": {**_DATABASE, "apps": names(["frappe"]), **_LINKS, "sanitized_config_content": obj({}),
		"skip_failing_patches": flag()},
	"New Site from Backup": {"name": name("{new_site}"), "apps": names(["frappe"]), "config": obj({}), **_DATABASE,
		"site_config": Field("{}", ("not json", HUGE, ["x"])), **_LINKS, "skip_failing_patches": flag()},
	"Run Remote Builder": {"image_repository": name("registry.example/press/{bench}"), "image_tag": name("build-1"),
		"dockerfile": Field(base64.b64encode(b"FROM scratch\n").decode(), ("not base64!", "", HUGE, ["x"])),
		"clone_instructions": items({"app": name("frappe"),
			"url": Field("{clone_url}", ("x", "ftp://a/b", "http://a b/c", "http://a\x00b", "https://[::1/x",
				"https://u:p@git.example:99999/x", "", None, *NOT_TEXT)),
			"hash": name("{commit}"), "branch": name("version-15")}),
		"registry": obj({"url": text(""), "username": text("press"), "password": secret("registry_password")}),
		"deploy_candidate_params": obj({}), "platform": Field("x86_64", ("arm", "../x", HUGE, ["x"])), "no_cache": flag(), "no_push": flag(True),
		"build_token": secret("build_token", checked=False),
		"ssh_keys": free({"host": {"private_key": Secret("ssh_key")}})},
	"Cleanup Unused Files": {"force": Field(False, (HUGE, "yes", 1, []))},
	"Add Upstream to Proxy": {"name": name("{upstream}")},
	"Add Site to Upstream": {"name": name("{site}")},
	"Add Domain to Upstream": {"domain": name("{host}")},
	"Remove Site from Upstream": {"extra_domains": names([])},
	"Update Site Status": {"status": text("active"), "extra_domains": names([]), "skip_reload": free(False)},
	"Rename Site on Upstream": {"new_name": name("{new_site}"), "domains": names([])},
	"Add Host to Proxy": {"name": name("{host}"), "target": name("{site}"), "certificate": _certificate()},
	"Remove Host from Proxy": {},
	"Add Wildcard Hosts to Proxy": [{"domain": name("{zone}"), "certificate": _certificate(), "code_server": free(False)}],
	"Reload NGINX Job": {},
	"Add User to Proxy": {"name": name("{user}"), "principal": free("group"), "ssh": free({"ip": "10.0.0.5", "port": 22000}),
		"certificate": free({})},
	"Remove User from Proxy": {},
}

# A value standing for each path parameter and placeholder, and the bad ones a path refuses.
NAMES = {"bench": "b1", "site": "s1.acme.example", "new_site": "s2.acme.example", "app": "frappe", "host": "shop.example.org",
	"domain": "www.example.org",
	"upstream": "10.0.0.5", "user": "b1", "zone": "acme.example", "commit": "0" * 40, "bucket": "backups", "fullchain": PEM,
	"image": "registry.example/press/bench:1",
	"clone_url": "https://x-access-token:{clone_token}@git.example/frappe/frappe"}
BAD_PATH_PARTS = ("..", "a;b", "a\x00b", "x" * 300, "A B", "$(id)", "%2e%2e")


def _fill(value, names: dict, secrets: dict):
	if isinstance(value, Field):
		return _fill(value.value, names, secrets)
	if isinstance(value, Secret):
		return secrets.get(value.key, KEY_PEM.format(value.key) if value.key == "private_key" else f"secret-{value.key}")
	if isinstance(value, dict):
		return {k: _fill(v, names, secrets) for k, v in value.items()}
	if isinstance(value, list):
		return [_fill(v, names, secrets) for v in value]
	if isinstance(value, str):
		values = {**names, "clone_token": secrets.get("clone_token", "secret-clone-token")}
		for _ in range(2):  # a placeholder's value may hold one (the clone URL its token)
			value = re.sub(r"\{(\w+)\}", lambda m: str(values.get(m[1], m[0])), value)
		return value
	return value


def request_for(job_type, names: dict | None = None, secrets: dict | None = None) -> tuple[str, object]:
	"""(path, body) of a good request for the job type (a JobType)."""
	names = {**NAMES, **(names or {})}
	return _fill(job_type.path, names, {}), _fill(REQUESTS[job_type.name], names, secrets or {})


def secret_keys(template=None) -> set[str]:
	"""The keys of the secrets a request template holds."""
	if isinstance(template, Field):
		return secret_keys(template.value)
	if isinstance(template, Secret):
		return {template.key}
	if isinstance(template, dict):
		return set().union(*(secret_keys(v) for v in template.values()))
	if isinstance(template, list):
		return set().union(*(secret_keys(v) for v in template))
	if isinstance(template, str) and "{clone_url}" in template:
		return {"clone_token"}
	return set()


def bad_requests(job_type) -> list[tuple[str, object, str]]:
	"""(path, body, what is bad) for every bad value of every field and path part."""
	path, good = request_for(job_type)
	cases = []
	pattern = job_type.path.split("/")
	for i, part in enumerate(pattern):
		if part.startswith("{"):
			for bad in BAD_PATH_PARTS:
				cases.append(("/".join([*path.split("/")[:i], bad, *path.split("/")[i + 1:]]), good, f"path {part}={bad!r}"))
	template = REQUESTS[job_type.name]
	for bad in ("x", HUGE, None if isinstance(template, list) else ["x"]) if template else ():
		if bad is not None:
			cases.append((path, bad, f"body {bad!r:.40}"))
	for where, bad in _bad_fields(template):
		cases.append((path, _replace(good, where, bad), f"{'/'.join(map(str, where))}={bad!r:.40}"))
	return cases


def _bad_fields(template, at: tuple = ()):
	if isinstance(template, Field):
		for bad in template.bad:
			yield at, bad
		template = template.value
	if isinstance(template, dict):
		for key, value in template.items():
			yield from _bad_fields(value, (*at, key))
	elif isinstance(template, list):
		for i, value in enumerate(template):
			yield from _bad_fields(value, (*at, i))


def _replace(data, where: tuple, value):
	if not where:
		return value
	copy = list(data) if isinstance(data, list) else dict(data)
	copy[where[0]] = _replace(copy[where[0]], where[1:], value)
	return copy
